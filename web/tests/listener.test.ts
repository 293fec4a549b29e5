import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Backoff } from "../src/connection";
import { ListenerConnection } from "../src/listener";
import type { Segment } from "../src/protocol";
import { FakeSockets, pageAt, settle, type FakeWebSocket } from "./fake-websocket";
import { segment, texts } from "./segments";

/** A minimal fetch Response: what ListenerConnection reads (status, ok, statusText, json()). */
function respond(status: number, body: unknown, statusText = ""): Response {
  return {
    status,
    ok: status >= 200 && status < 300,
    statusText,
    json: async () => body,
  } as unknown as Response;
}

function history(segments: Segment[]): Response {
  return respond(200, { conversation: "abc", segments });
}

function notFound(): Response {
  return respond(
    404,
    { error: { code: "not_found", message: "no such conversation" } },
    "Not Found",
  );
}

interface Setup {
  listener: ListenerConnection;
  sockets: FakeSockets;
  fetch: ReturnType<typeof vi.fn>;
}

/** A listener of conversation ``abc`` on ``page``, whose fetch answers with ``responses`` in turn. */
async function started(
  responses: Response[],
  page = "https://captions.example/?conversation=abc",
): Promise<Setup> {
  const sockets = new FakeSockets();
  const queue = [...responses];
  const fetch = vi.fn(async (_input: RequestInfo | URL) => {
    const next = queue.shift();
    if (!next) throw new Error("unexpected fetch");
    return next;
  });
  const listener = new ListenerConnection("abc", {
    webSocket: sockets.factory,
    fetch: fetch as unknown as typeof globalThis.fetch,
    location: pageAt(page),
    // random()=1: the delay is exactly the 10 ms ceiling.
    backoff: new Backoff(10, 10, () => 1),
  });
  listener.start();
  await settle();
  return { listener, sockets, fetch };
}

function query(socket: FakeWebSocket): URLSearchParams {
  return new URL(socket.url).searchParams;
}

function shown(listener: ListenerConnection): string[] {
  return texts(listener.transcript.get().segments);
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("ListenerConnection", () => {
  it("GIVEN a conversation with history on an https page WHEN started THEN history is shown and the wss socket resumes after its last cursor", async () => {
    const { listener, sockets, fetch } = await started([history([segment(1), segment(2)])]);

    expect(fetch).toHaveBeenCalledTimes(1);
    expect(fetch.mock.calls[0]?.[0]).toBe("/api/stt/conversations/abc/transcript?format=json");
    expect(shown(listener)).toEqual(["sentence 1", "sentence 2"]);
    expect(sockets.all).toHaveLength(1);
    const url = new URL(sockets.at(0).url);
    expect(url.protocol).toBe("wss:");
    expect(url.host).toBe("captions.example");
    expect(url.pathname).toBe("/api/stt/connect");
    expect(url.searchParams.get("conversation")).toBe("abc");
    expect(url.searchParams.get("since")).toBe(segment(2).cursor);
    // Not live until the broadcaster's snapshot says so.
    expect(listener.state.get().phase).toBe("connecting");
  });

  it("GIVEN an unknown conversation (404) on an http page WHEN started THEN a ws socket opens without since", async () => {
    const { listener, sockets } = await started(
      [notFound()],
      "http://127.0.0.1:8080/?conversation=abc",
    );

    expect(sockets.all).toHaveLength(1);
    const url = new URL(sockets.at(0).url);
    expect(url.protocol).toBe("ws:");
    expect(url.host).toBe("127.0.0.1:8080");
    expect(url.searchParams.get("conversation")).toBe("abc");
    expect(url.searchParams.has("since")).toBe(false);
    expect(listener.transcript.get().segments).toEqual([]);
    expect(listener.state.get().phase).toBe("connecting");
  });

  it("GIVEN an open socket WHEN a snapshot then segment deltas arrive THEN the transcript grows in order and the state is live from the snapshot", async () => {
    const { listener, sockets } = await started([notFound()]);
    const socket = sockets.at(0);
    socket.open();
    expect(listener.state.get().phase).toBe("connecting");

    socket.receive({ type: "snapshot", conversation: "abc", segments: [segment(1), segment(2)] });
    expect(listener.state.get()).toEqual({ phase: "live", detail: "" });
    expect(shown(listener)).toEqual(["sentence 1", "sentence 2"]);

    socket.receive({ type: "segments", conversation: "abc", segments: [segment(3)] });
    socket.receive({ type: "segments", conversation: "abc", segments: [segment(4), segment(5)] });
    expect(shown(listener)).toEqual([
      "sentence 1",
      "sentence 2",
      "sentence 3",
      "sentence 4",
      "sentence 5",
    ]);
    expect(listener.transcript.get().since).toBe(segment(5).cursor);
  });

  it("GIVEN a malformed frame THEN it is ignored and the transcript is unchanged", async () => {
    const { listener, sockets } = await started([notFound()]);
    const socket = sockets.at(0);
    socket.open();
    socket.receive({ type: "snapshot", conversation: "abc", segments: [segment(1)] });
    socket.receive("not json");
    socket.receive({
      type: "segments",
      conversation: "abc",
      segments: [{ ...segment(2), text: 42 }],
    });
    expect(shown(listener)).toEqual(["sentence 1"]);
    expect(listener.state.get().phase).toBe("live");
  });

  it("WHEN the socket drops (1006) THEN the state is reconnecting, and after the backoff a new socket resumes with since=last cursor delivered, without duplicates", async () => {
    const { listener, sockets, fetch } = await started([history([segment(1)])]);
    const first = sockets.at(0);
    first.open();
    first.receive({ type: "snapshot", conversation: "abc", segments: [segment(2)] });
    first.receive({ type: "segments", conversation: "abc", segments: [segment(3)] });

    first.serverClose(1006);
    expect(listener.state.get().phase).toBe("reconnecting");
    expect(listener.state.get().detail).toContain("1006");
    expect(sockets.all).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(9);
    expect(sockets.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(sockets.all).toHaveLength(2);
    const second = sockets.at(1);
    expect(query(second).get("conversation")).toBe("abc");
    expect(query(second).get("since")).toBe(segment(3).cursor);
    // The history is not fetched again: since covers it.
    expect(fetch).toHaveBeenCalledTimes(1);

    // A snapshot that overlaps what was already shown adds only what is new.
    second.open();
    second.receive({ type: "snapshot", conversation: "abc", segments: [segment(3), segment(4)] });
    expect(listener.state.get().phase).toBe("live");
    expect(shown(listener)).toEqual(["sentence 1", "sentence 2", "sentence 3", "sentence 4"]);
    expect(listener.transcript.get().since).toBe(segment(4).cursor);
  });

  it("GIVEN an error frame WHEN the server closes with 1008 THEN the state is error with the server's message and no new socket opens", async () => {
    const { listener, sockets } = await started([notFound()]);
    const socket = sockets.at(0);
    socket.open();
    socket.receive({
      type: "error",
      code: "invalid_since",
      message: "since is not a cursor of this conversation",
    });
    socket.serverClose(1008, "policy");

    expect(listener.state.get()).toEqual({
      phase: "error",
      detail: "since is not a cursor of this conversation",
    });
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(sockets.all).toHaveLength(1);
    expect(listener.state.get().phase).toBe("error");
  });

  it("GIVEN a close 1013 with an error frame THEN it is retried (only 1003/1008/1009 are final) and the detail carries the message", async () => {
    const { listener, sockets } = await started([notFound()]);
    const socket = sockets.at(0);
    socket.open();
    socket.receive({ type: "error", code: "listener_too_slow", message: "listener too slow" });
    socket.serverClose(1013);
    expect(listener.state.get().phase).toBe("reconnecting");
    expect(listener.state.get().detail).toContain("listener too slow");
    await vi.advanceTimersByTimeAsync(10);
    await settle();
    expect(sockets.all).toHaveLength(2);
  });

  it("GIVEN the transcript fetch fails (500) THEN the state is reconnecting with the server's message, and the fetch is retried after the backoff", async () => {
    const failure = respond(
      500,
      { error: { code: "store_unavailable", message: "the store is unavailable" } },
      "Internal Server Error",
    );
    const { listener, sockets, fetch } = await started([failure, history([segment(1)])]);

    expect(listener.state.get().phase).toBe("reconnecting");
    expect(listener.state.get().detail).toContain("the store is unavailable");
    expect(sockets.all).toHaveLength(0);

    await vi.advanceTimersByTimeAsync(10);
    await settle();
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(shown(listener)).toEqual(["sentence 1"]);
    expect(sockets.all).toHaveLength(1);
    expect(query(sockets.at(0)).get("since")).toBe(segment(1).cursor);
  });

  it("GIVEN a fetch that throws (offline) THEN the state is reconnecting with the error's text", async () => {
    const sockets = new FakeSockets();
    const listener = new ListenerConnection("abc", {
      webSocket: sockets.factory,
      fetch: (async () => {
        throw new TypeError("Failed to fetch");
      }) as unknown as typeof fetch,
      location: pageAt("https://captions.example/"),
      // random()=1: the delay is exactly the 10 ms ceiling.
      backoff: new Backoff(10, 10, () => 1),
    });
    listener.start();
    await settle();
    expect(listener.state.get()).toEqual({
      phase: "reconnecting",
      detail: "Cannot load the transcript: Failed to fetch",
    });
    expect(sockets.all).toHaveLength(0);
    listener.stop();
  });

  it("WHEN stop() is called THEN the socket is closed and never reopened, even if it reports a drop", async () => {
    const { listener, sockets } = await started([notFound()]);
    const socket = sockets.at(0);
    socket.open();
    socket.receive({ type: "snapshot", conversation: "abc", segments: [] });

    listener.stop();
    expect(socket.closedByClient?.code).toBe(1000);
    socket.serverClose(1006);
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(sockets.all).toHaveLength(1);
    expect(listener.state.get().phase).not.toBe("reconnecting");
  });

  it("GIVEN a reconnection pending WHEN stop() is called THEN the pending retry is cancelled", async () => {
    const { listener, sockets } = await started([notFound()]);
    sockets.at(0).open();
    sockets.at(0).serverClose(1006);
    expect(listener.state.get().phase).toBe("reconnecting");

    listener.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(sockets.all).toHaveLength(1);
  });

  it("GIVEN a reconnection pending WHEN retryNow() is called THEN a socket opens at once and the old timer opens no second one", async () => {
    const { listener, sockets } = await started([history([segment(1)])]);
    sockets.at(0).open();
    sockets.at(0).receive({ type: "snapshot", conversation: "abc", segments: [segment(2)] });
    sockets.at(0).serverClose(1006);

    listener.retryNow();
    await settle();
    expect(sockets.all).toHaveLength(2);
    expect(query(sockets.at(1)).get("since")).toBe(segment(2).cursor);
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(sockets.all).toHaveLength(2);
  });

  it("WHEN addOwn shows the speaker's own final THEN since does not move, and the listener's later copy is not duplicated", async () => {
    const { listener, sockets } = await started([history([segment(1)])]);
    const socket = sockets.at(0);
    socket.open();
    socket.receive({ type: "snapshot", conversation: "abc", segments: [] });

    listener.addOwn(segment(3, { speaker: "Me" }));
    expect(shown(listener)).toEqual(["sentence 1", "sentence 3"]);
    expect(listener.transcript.get().since).toBe(segment(1).cursor);

    socket.receive({
      type: "segments",
      conversation: "abc",
      segments: [segment(2), segment(3, { speaker: "Me" })],
    });
    expect(shown(listener)).toEqual(["sentence 1", "sentence 2", "sentence 3"]);
    expect(listener.transcript.get().since).toBe(segment(3).cursor);
  });
});
