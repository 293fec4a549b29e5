import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Backoff } from "../src/connection";
import type { Segment } from "../src/protocol";
import {
  HELD_AUDIO_SECONDS,
  SpeakerConnection,
  withPartial,
  withoutFinalized,
  type Partial,
} from "../src/speaker";
import { FakeSockets, FakeWebSocket, pageAt, settle } from "./fake-websocket";
import { segment } from "./segments";

/** 100 ms of 16 kHz Int16 PCM (3200 bytes), its first byte ``tag`` so the test can tell chunks apart. */
function chunk(tag: number): ArrayBuffer {
  const bytes = new Uint8Array(3200);
  bytes[0] = tag;
  return bytes.buffer;
}

/** The tags of the binary frames ``socket`` sent, in order. */
function sentTags(socket: FakeWebSocket): number[] {
  return socket.sent
    .filter((frame): frame is ArrayBuffer => frame instanceof ArrayBuffer)
    .map((frame) => new Uint8Array(frame)[0] ?? -1);
}

const READY = { type: "ready", conversation: "abc", session: "sess-1", sampleRate: 16000 };

interface Setup {
  speaker: SpeakerConnection;
  sockets: FakeSockets;
  finals: Segment[];
}

function connect(options: { speaker?: string; language?: string; page?: string } = {}): Setup {
  const sockets = new FakeSockets();
  const finals: Segment[] = [];
  const speaker = new SpeakerConnection("abc", options.speaker ?? "Alice", (s) => finals.push(s), {
    webSocket: sockets.factory,
    location: pageAt(options.page ?? "https://captions.example/?conversation=abc"),
    // random()=1: the delay is exactly the 10 ms ceiling.
    backoff: new Backoff(10, 10, () => 1),
    ...(options.language ? { language: options.language } : {}),
  });
  return { speaker, sockets, finals };
}

/** A speaker whose first socket is open and ready. */
function live(): Setup {
  const setup = connect();
  setup.sockets.at(0).open();
  setup.sockets.at(0).receive(READY);
  return setup;
}

beforeEach(() => {
  vi.useFakeTimers();
  // node 20 has no global WebSocket; speaker.ts compares readyState with WebSocket.OPEN.
  vi.stubGlobal("WebSocket", FakeWebSocket);
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe("SpeakerConnection", () => {
  it("WHEN created THEN it opens the audio socket with sampleRate, conversation, speaker and language", () => {
    const { sockets, speaker } = connect({ speaker: "Ada Lovelace", language: "fr-FR" });
    expect(sockets.all).toHaveLength(1);
    const socket = sockets.at(0);
    const url = new URL(socket.url);
    expect(url.protocol).toBe("wss:");
    expect(url.host).toBe("captions.example");
    expect(url.pathname).toBe("/api/stt/transcribe");
    expect(url.searchParams.get("sampleRate")).toBe("16000");
    expect(url.searchParams.get("conversation")).toBe("abc");
    expect(url.searchParams.get("speaker")).toBe("Ada Lovelace");
    expect(url.searchParams.get("language")).toBe("fr-FR");
    expect(socket.binaryType).toBe("arraybuffer");
    expect(speaker.state.get().phase).toBe("connecting");
  });

  it("GIVEN no language option THEN en-US is asked for, and an http page uses ws:", () => {
    const { sockets } = connect({ page: "http://127.0.0.1:8080/" });
    const url = new URL(sockets.at(0).url);
    expect(url.protocol).toBe("ws:");
    expect(url.searchParams.get("language")).toBe("en-US");
  });

  it("GIVEN audio captured before ready THEN it is held and sent in order right after ready, then audio flows directly", () => {
    const { speaker, sockets } = connect();
    const socket = sockets.at(0);
    speaker.send(chunk(1));
    socket.open();
    speaker.send(chunk(2));
    speaker.send(chunk(3));
    expect(socket.sent).toHaveLength(0);

    socket.receive(READY);
    expect(speaker.state.get()).toEqual({ phase: "live", detail: "" });
    expect(sentTags(socket)).toEqual([1, 2, 3]);

    speaker.send(chunk(4));
    expect(sentTags(socket)).toEqual([1, 2, 3, 4]);
    expect(speaker.lostSeconds.get()).toBe(0);
  });

  it(`GIVEN 5 s of audio before ready THEN only the newest ${HELD_AUDIO_SECONDS} s are sent and 1 s is reported lost`, () => {
    const { speaker, sockets } = connect();
    const socket = sockets.at(0);
    for (let i = 0; i < 50; i += 1) speaker.send(chunk(i));
    expect(speaker.lostSeconds.get()).toBeCloseTo(1.0, 6);

    socket.open();
    socket.receive(READY);
    const tags = sentTags(socket);
    expect(tags).toHaveLength(40);
    expect(tags[0]).toBe(10);
    expect(tags[39]).toBe(49);
    expect(speaker.lostSeconds.get()).toBeCloseTo(1.0, 6);
  });

  it("GIVEN partials WHEN they grow by resultId THEN one caption per result; a final removes those it covers and is passed on", () => {
    const { speaker, sockets, finals } = live();
    const socket = sockets.at(0);
    socket.receive({ type: "partial", resultId: "r1", text: "hel", start: 0.2, end: 0.5 });
    socket.receive({ type: "partial", resultId: "r1", text: "hello wor", start: 0.2, end: 1.1 });
    socket.receive({ type: "partial", resultId: "r2", text: "next", start: 2.0, end: 2.3 });
    expect(speaker.partials.get().map((p) => [p.resultId, p.text])).toEqual([
      ["r1", "hello wor"],
      ["r2", "next"],
    ]);

    const final = segment(1, { text: "Hello world.", start: 0.2, end: 1.4 });
    socket.receive({ type: "final", segment: final });
    expect(speaker.partials.get().map((p) => p.resultId)).toEqual(["r2"]);
    expect(finals).toEqual([final]);
  });

  it("GIVEN status messages THEN the state mirrors them with their detail", () => {
    const { speaker, sockets } = live();
    sockets
      .at(0)
      .receive({ type: "status", state: "stalled", detail: "no answer from Transcribe for 10 s" });
    expect(speaker.state.get()).toEqual({
      phase: "stalled",
      detail: "no answer from Transcribe for 10 s",
    });
    sockets.at(0).receive({ type: "status", state: "live", detail: "" });
    expect(speaker.state.get()).toEqual({ phase: "live", detail: "" });
  });

  it("WHEN the socket drops unexpectedly THEN reconnecting, and after the backoff a new socket to the same conversation and speaker gets the audio held meanwhile", async () => {
    const { speaker, sockets } = live();
    sockets
      .at(0)
      .receive({ type: "partial", resultId: "r1", text: "half a sen", start: 0, end: 1 });
    sockets.at(0).serverClose(1006);
    expect(speaker.state.get().phase).toBe("reconnecting");
    expect(speaker.state.get().detail).toContain("1006");

    speaker.send(chunk(7));
    speaker.send(chunk(8));
    await vi.advanceTimersByTimeAsync(9);
    expect(sockets.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets.all).toHaveLength(2);

    const second = sockets.at(1);
    const first = new URL(sockets.at(0).url).searchParams;
    const again = new URL(second.url).searchParams;
    expect(again.get("conversation")).toBe("abc");
    expect(again.get("speaker")).toBe("Alice");
    expect(again.toString()).toBe(first.toString());

    second.open();
    second.receive({ ...READY, session: "sess-2" });
    expect(speaker.state.get().phase).toBe("live");
    expect(sentTags(second)).toEqual([7, 8]);
    // The new session counts time from zero: the old session's partials are gone.
    expect(speaker.partials.get()).toEqual([]);
  });

  it("GIVEN an error frame WHEN the server closes with 1008 THEN the state is error with the server's message and nothing reconnects", async () => {
    const { speaker, sockets } = connect();
    const socket = sockets.at(0);
    socket.open();
    socket.receive({
      type: "error",
      code: "invalid_speaker",
      message: "speaker must be 1 to 64 printable characters",
    });
    socket.serverClose(1008);

    expect(speaker.state.get()).toEqual({
      phase: "error",
      detail: "speaker must be 1 to 64 printable characters",
    });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets.all).toHaveLength(1);
    expect(speaker.state.get().phase).toBe("error");
  });

  it("WHEN end() is called THEN pending audio then {type:end} are sent, late finals still arrive, and it resolves with state ended once the server closes with 1000", async () => {
    const { speaker, sockets, finals } = connect();
    const socket = sockets.at(0);
    socket.open();
    speaker.send(chunk(1));
    speaker.send(chunk(2)); // held: not ready yet

    let resolved = false;
    const done = speaker.end().then(() => {
      resolved = true;
    });
    expect(socket.sent).toHaveLength(3);
    expect(sentTags(socket)).toEqual([1, 2]);
    expect(socket.sent[2]).toBe(JSON.stringify({ type: "end" }));
    expect(socket.sentJson()).toEqual([{ type: "end" }]);

    // Audio after end() is not sent.
    speaker.send(chunk(3));
    expect(socket.sent).toHaveLength(3);

    const last = segment(9, { text: "The last words." });
    socket.receive({ type: "final", segment: last });
    expect(finals).toEqual([last]);
    socket.receive({ type: "partial", resultId: "r9", text: "never finished", start: 20, end: 21 });
    expect(speaker.partials.get()).toHaveLength(1);
    await settle();
    expect(resolved).toBe(false);

    socket.serverClose(1000);
    await done;
    expect(resolved).toBe(true);
    expect(speaker.state.get().phase).toBe("ended");
    expect(speaker.partials.get()).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets.all).toHaveLength(1);
  });

  it("GIVEN the server never closes after end() THEN it gives up after 15 s, closes the socket and says the last captions were missed", async () => {
    const { speaker, sockets } = live();
    const socket = sockets.at(0);
    let resolved = false;
    void speaker.end().then(() => {
      resolved = true;
    });
    await vi.advanceTimersByTimeAsync(14_999);
    expect(resolved).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(resolved).toBe(true);
    expect(socket.closedByClient?.code).toBe(1000);
    expect(speaker.state.get()).toEqual({
      phase: "error",
      detail: "Stopped before the last captions arrived.",
    });
  });

  it("GIVEN a reconnection pending WHEN end() is called THEN it resolves at once, state ended, and no socket reopens", async () => {
    const { speaker, sockets } = live();
    sockets.at(0).serverClose(1006);
    expect(speaker.state.get().phase).toBe("reconnecting");
    await speaker.end();
    expect(speaker.state.get().phase).toBe("ended");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets.all).toHaveLength(1);
  });
});

describe("SpeakerConnection.end while audio is held", () => {
  it("GIVEN 1.5 s of audio held during a reconnection WHEN end() is called THEN it is reported lost and the state says so", async () => {
    const { speaker, sockets } = live();
    sockets.at(0).serverClose(1006);
    for (let tag = 0; tag < 15; tag += 1) speaker.send(chunk(tag));
    await speaker.end();
    expect(speaker.lostSeconds.get()).toBeCloseTo(1.5, 5);
    expect(speaker.state.get()).toEqual({
      phase: "error",
      detail: "Stopped while reconnecting: 1.5 s of speech was not sent.",
    });
  });

  it("WHEN end() is called twice THEN one end message is sent and both resolve with the close", async () => {
    const { speaker, sockets } = live();
    const first = speaker.end();
    const second = speaker.end();
    sockets.at(0).serverClose(1000);
    await Promise.all([first, second]);
    const ends = sockets.at(0).sent.filter((frame) => frame === JSON.stringify({ type: "end" }));
    expect(ends).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(speaker.state.get().phase).toBe("ended");
  });
});

describe("SpeakerConnection on a slow network", () => {
  it("GIVEN audio piling up in the browser's send buffer THEN stalled with how much waits, and live again once it drains", () => {
    const { speaker, sockets } = live();
    const socket = sockets.at(0);
    socket.bufferedAmount = 32_000 * 2.5;
    speaker.send(chunk(1));
    expect(speaker.state.get()).toEqual({
      phase: "stalled",
      detail: "2.5 s of audio waiting to be sent: the connection is slow.",
    });
    socket.bufferedAmount = 32_000;
    speaker.send(chunk(2));
    expect(speaker.state.get().phase).toBe("stalled");
    socket.bufferedAmount = 0;
    speaker.send(chunk(3));
    expect(speaker.state.get()).toEqual({ phase: "live", detail: "" });
    expect(sentTags(socket)).toEqual([1, 2, 3]);
  });
});

describe("withPartial", () => {
  const p = (resultId: string, text: string, start: number, end: number, updated = 1): Partial => ({
    resultId,
    text,
    start,
    end,
    updated,
  });

  it("GIVEN a partial of the same result THEN it is replaced (text grows), others kept, ordered by start", () => {
    const before = [p("a", "one", 0, 1), p("b", "two", 2, 3)];
    const after = withPartial(before, { resultId: "a", text: "one more", start: 0, end: 1.5 }, 42);
    expect(after).toEqual([p("a", "one more", 0, 1.5, 42), p("b", "two", 2, 3)]);
    expect(before).toEqual([p("a", "one", 0, 1), p("b", "two", 2, 3)]);
  });

  it("GIVEN a new result that starts earlier THEN it is added in start order", () => {
    const after = withPartial(
      [p("b", "two", 2, 3)],
      { resultId: "a", text: "one", start: 0.5, end: 1 },
      7,
    );
    expect(after.map((x) => x.resultId)).toEqual(["a", "b"]);
    expect(after[0]?.updated).toBe(7);
  });
});

describe("withoutFinalized", () => {
  it("GIVEN a final ending at 1.4 s THEN partials starting by then are removed, later ones kept", () => {
    const partials: Partial[] = [
      { resultId: "a", text: "hello", start: 0.2, end: 1.1, updated: 1 },
      { resultId: "b", text: "world", start: 1.4, end: 1.9, updated: 1 },
      { resultId: "c", text: "next", start: 2.0, end: 2.5, updated: 1 },
    ];
    const left = withoutFinalized(partials, segment(1, { start: 0.2, end: 1.4 }));
    expect(left.map((x) => x.resultId)).toEqual(["c"]);
  });
});
