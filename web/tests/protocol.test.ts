import { describe, expect, it } from "vitest";
import { newConversationId, parseJoinInput } from "../src/conversation";
import {
  CONVERSATION_ID,
  parseListenerMessage,
  parseSpeakerMessage,
  socketUrl,
  transcriptPath,
} from "../src/protocol";
import { pageAt } from "./fake-websocket";
import { segment } from "./segments";

describe("parseListenerMessage", () => {
  it("GIVEN a well-formed snapshot or segments frame THEN it is returned with its segments", () => {
    const frame = JSON.stringify({
      type: "segments",
      conversation: "abc",
      segments: [segment(1), segment(2)],
    });
    expect(parseListenerMessage(frame)).toEqual({
      type: "segments",
      conversation: "abc",
      segments: [segment(1), segment(2)],
    });
    expect(
      parseListenerMessage(JSON.stringify({ type: "snapshot", conversation: "abc", segments: [] })),
    ).toEqual({
      type: "snapshot",
      conversation: "abc",
      segments: [],
    });
  });

  it.each([
    ["bad JSON", '{"type":"snapshot",'],
    ["a JSON array", "[]"],
    ["a binary frame", new ArrayBuffer(4)],
    ["an unknown type", JSON.stringify({ type: "hello", conversation: "abc", segments: [] })],
    ["no conversation", JSON.stringify({ type: "segments", segments: [] })],
    [
      "segments not a list",
      JSON.stringify({ type: "segments", conversation: "abc", segments: {} }),
    ],
    [
      "a segment with a numeric text",
      JSON.stringify({
        type: "segments",
        conversation: "abc",
        segments: [segment(1), { ...segment(2), text: 5 }],
      }),
    ],
    [
      "a segment without a cursor",
      JSON.stringify({
        type: "snapshot",
        conversation: "abc",
        segments: [{ ...segment(1), cursor: undefined }],
      }),
    ],
    [
      "a segment with a string start",
      JSON.stringify({
        type: "snapshot",
        conversation: "abc",
        segments: [{ ...segment(1), start: "1.2" }],
      }),
    ],
    [
      "an error frame",
      JSON.stringify({ type: "error", code: "invalid_since", message: "bad since" }),
    ],
  ])("GIVEN %s THEN it is rejected (null)", (_what, frame) => {
    expect(parseListenerMessage(frame)).toBeNull();
  });
});

describe("parseSpeakerMessage", () => {
  it("GIVEN each well-formed message THEN it is returned as sent", () => {
    const ready = { type: "ready", conversation: "abc", session: "s1", sampleRate: 16000 };
    const partial = { type: "partial", resultId: "r1", text: "hel", start: 0.1, end: 0.4 };
    const status = { type: "status", state: "stalled", detail: "quiet" };
    const error = { type: "error", code: "too_fast", message: "slow down" };
    expect(parseSpeakerMessage(JSON.stringify(ready))).toEqual(ready);
    expect(parseSpeakerMessage(JSON.stringify(partial))).toEqual(partial);
    expect(parseSpeakerMessage(JSON.stringify(status))).toEqual(status);
    expect(parseSpeakerMessage(JSON.stringify(error))).toEqual(error);
    expect(parseSpeakerMessage(JSON.stringify({ type: "final", segment: segment(3) }))).toEqual({
      type: "final",
      segment: segment(3),
    });
  });

  it.each([
    ["bad JSON", "{nope"],
    ["a number", "42"],
    ["a ready without session", JSON.stringify({ type: "ready", conversation: "abc" })],
    [
      "a partial without resultId",
      JSON.stringify({ type: "partial", text: "x", start: 0, end: 1 }),
    ],
    [
      "a final whose segment has a numeric text",
      JSON.stringify({ type: "final", segment: { ...segment(1), text: 7 } }),
    ],
    ["a final without segment", JSON.stringify({ type: "final" })],
    [
      "a status with an unknown state",
      JSON.stringify({ type: "status", state: "sleeping", detail: "" }),
    ],
    ["an error without message", JSON.stringify({ type: "error", code: "x" })],
    ["an unknown type", JSON.stringify({ type: "snapshot", conversation: "abc", segments: [] })],
  ])("GIVEN %s THEN it is rejected (null)", (_what, frame) => {
    expect(parseSpeakerMessage(frame)).toBeNull();
  });
});

describe("URLs", () => {
  it("GIVEN an https page THEN sockets use wss: on the same host, with the query encoded", () => {
    const url = socketUrl(
      "/api/stt/transcribe",
      { speaker: "Zoë & Co", conversation: "abc" },
      pageAt("https://captions.example:8443/x"),
    );
    expect(url).toBe(
      "wss://captions.example:8443/api/stt/transcribe?speaker=Zo%C3%AB+%26+Co&conversation=abc",
    );
    expect(new URL(url).searchParams.get("speaker")).toBe("Zoë & Co");
  });

  it("GIVEN an http page THEN sockets use ws:", () => {
    expect(
      socketUrl("/api/stt/connect", { conversation: "abc" }, pageAt("http://127.0.0.1:8080/")),
    ).toBe("ws://127.0.0.1:8080/api/stt/connect?conversation=abc");
  });

  it("GIVEN a conversation id THEN transcriptPath encodes it as one path segment", () => {
    expect(transcriptPath("abc", "srt")).toBe("/api/stt/conversations/abc/transcript?format=srt");
    expect(transcriptPath("a b/../c?d", "json")).toBe(
      "/api/stt/conversations/a%20b%2F..%2Fc%3Fd/transcript?format=json",
    );
  });
});

describe("conversation ids", () => {
  it("WHEN a new id is made THEN it is 12 characters of the contract's pattern, without l, 1 or 0", () => {
    for (let i = 0; i < 50; i += 1) {
      const id = newConversationId();
      expect(id).toMatch(CONVERSATION_ID);
      expect(id).toMatch(/^[a-km-z2-9]{12}$/);
    }
    expect(newConversationId()).not.toBe(newConversationId());
  });

  it("GIVEN fixed random bytes THEN the id is derived from them", () => {
    const id = newConversationId((bytes) => bytes.fill(0));
    expect(id).toBe("aaaaaaaaaaaa");
    const other = newConversationId((bytes) => bytes.fill(33)); // 33 % 33 = 0
    expect(other).toBe("aaaaaaaaaaaa");
    expect(newConversationId((bytes) => bytes.fill(32))).toBe("999999999999");
  });

  it.each([
    ["a bare id", "abc", "abc"],
    ["a bare id with spaces around", "  k3x9_mm-2  ", "k3x9_mm-2"],
    ["a shared link", "http://host/?conversation=abc", "abc"],
    [
      "an https link with other parameters",
      "https://captions.example/?lang=en&conversation=Zz_9",
      "Zz_9",
    ],
  ])("GIVEN %s THEN parseJoinInput gives the id", (_what, input, id) => {
    expect(parseJoinInput(input)).toBe(id);
  });

  it.each([
    ["empty input", ""],
    ["words", "hello world"],
    ["an id that is too long", "a".repeat(65)],
    ["a link without a conversation", "http://host/"],
    ["a link with an invalid id", "http://host/?conversation=not%20valid"],
    ["punctuation", "abc!"],
  ])("GIVEN %s THEN parseJoinInput rejects it (null)", (_what, input) => {
    expect(parseJoinInput(input)).toBeNull();
  });
});
