import { describe, expect, it } from "vitest";
import { EMPTY_TRANSCRIPT, addSegments } from "../src/transcript";
import { segment, texts } from "./segments";

describe("addSegments", () => {
  it("GIVEN a snapshot WHEN deltas arrive THEN they are appended in cursor order and since is the newest", () => {
    let state = addSegments(EMPTY_TRANSCRIPT, [segment(1), segment(2)], true);
    state = addSegments(state, [segment(3)], true);
    state = addSegments(state, [segment(4), segment(5)], true);
    expect(texts(state.segments)).toEqual([
      "sentence 1",
      "sentence 2",
      "sentence 3",
      "sentence 4",
      "sentence 5",
    ]);
    expect(state.since).toBe(segment(5).cursor);
  });

  it("GIVEN a reconnection that overlaps WHEN the same segments arrive again THEN each is shown once", () => {
    let state = addSegments(EMPTY_TRANSCRIPT, [segment(1), segment(2), segment(3)], true);
    state = addSegments(state, [segment(2), segment(3), segment(4)], true);
    state = addSegments(state, [segment(4)], true);
    expect(texts(state.segments)).toEqual(["sentence 1", "sentence 2", "sentence 3", "sentence 4"]);
    expect(state.since).toBe(segment(4).cursor);
  });

  it("GIVEN segments arriving out of order THEN the transcript is sorted by cursor", () => {
    let state = addSegments(EMPTY_TRANSCRIPT, [segment(5), segment(1)], false);
    state = addSegments(state, [segment(3)], false);
    state = addSegments(state, [segment(0), segment(4), segment(2)], false);
    expect(texts(state.segments)).toEqual([
      "sentence 0",
      "sentence 1",
      "sentence 2",
      "sentence 3",
      "sentence 4",
      "sentence 5",
    ]);
  });

  it("GIVEN the speaker's own final (fromListener=false) THEN it is shown but since does not move", () => {
    let state = addSegments(EMPTY_TRANSCRIPT, [segment(1)], true);
    state = addSegments(state, [segment(7, { speaker: "Me" })], false);
    expect(texts(state.segments)).toEqual(["sentence 1", "sentence 7"]);
    // A reconnection must still ask for everything after 1, so others' segment 2..6 are fetched.
    expect(state.since).toBe(segment(1).cursor);

    // WHEN the listener later delivers segments up to and including the own final THEN since catches up.
    state = addSegments(state, [segment(2), segment(7, { speaker: "Me" })], true);
    expect(texts(state.segments)).toEqual(["sentence 1", "sentence 2", "sentence 7"]);
    expect(state.since).toBe(segment(7).cursor);
  });

  it("GIVEN only own finals THEN since stays null", () => {
    const state = addSegments(EMPTY_TRANSCRIPT, [segment(1), segment(2)], false);
    expect(state.segments).toHaveLength(2);
    expect(state.since).toBeNull();
  });

  it("GIVEN a listener segment older than since THEN since never moves backwards", () => {
    let state = addSegments(EMPTY_TRANSCRIPT, [segment(5)], true);
    state = addSegments(state, [segment(3)], true);
    expect(state.since).toBe(segment(5).cursor);
    expect(texts(state.segments)).toEqual(["sentence 3", "sentence 5"]);
  });

  it("GIVEN nothing new WHEN merging THEN the identical state object is returned (no re-render)", () => {
    const state = addSegments(EMPTY_TRANSCRIPT, [segment(1), segment(2)], true);
    expect(addSegments(state, [segment(1), segment(2)], true)).toBe(state);
    expect(addSegments(state, [segment(2)], false)).toBe(state);
    expect(addSegments(state, [], true)).toBe(state);
    expect(addSegments(EMPTY_TRANSCRIPT, [], false)).toBe(EMPTY_TRANSCRIPT);
  });

  it("GIVEN a state WHEN merging THEN the earlier state is left unchanged", () => {
    const before = addSegments(EMPTY_TRANSCRIPT, [segment(1), segment(3)], true);
    const after = addSegments(before, [segment(2)], true);
    expect(texts(before.segments)).toEqual(["sentence 1", "sentence 3"]);
    expect(texts(after.segments)).toEqual(["sentence 1", "sentence 2", "sentence 3"]);
    expect(before.since).toBe(segment(3).cursor);
    expect(after.since).toBe(segment(3).cursor);
    expect(after).not.toBe(before);
  });
});
