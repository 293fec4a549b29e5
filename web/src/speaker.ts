/**
 * The audio socket (`/api/stt/transcribe`): sends the microphone's PCM, receives this speaker's
 * partial captions and finals. A lost connection is reopened in the same conversation under the
 * same name; audio captured meanwhile is held (up to ``HELD_AUDIO_SECONDS``) and sent first, and
 * anything beyond that is reported, never dropped silently.
 */

import {
  Backoff,
  browserWebSocket,
  type ConnectionState,
  type WebSocketFactory,
} from "./connection";
import {
  PERMANENT_CLOSE_CODES,
  SAMPLE_RATE,
  parseSpeakerMessage,
  socketUrl,
  type Segment,
} from "./protocol";
import { Store } from "./store";

/**
 * Audio held while reconnecting. Ingest refuses a session more than 5 s ahead of real time
 * (`too_fast`), and held audio arrives all at once: keep below that.
 */
export const HELD_AUDIO_SECONDS = 4;
const BYTES_PER_SECOND = SAMPLE_RATE * 2;
/** Audio queued in the browser beyond which the uplink counts as stalled, and back below which it is live. */
const UPLINK_STALLED_SECONDS = 2;
const UPLINK_DRAINED_SECONDS = 0.5;
/** How long `end` waits for the last finals before giving up on the socket. */
const END_TIMEOUT_MS = 15_000;

/** A caption still changing: the words of one result so far. */
export interface Partial {
  readonly resultId: string;
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** ``Date.now()`` of its last update: a partial that is never finalized fades out. */
  readonly updated: number;
}

export interface SpeakerOptions {
  webSocket?: WebSocketFactory;
  location?: Location;
  backoff?: Backoff;
  language?: string;
}

export class SpeakerConnection {
  readonly state = new Store<ConnectionState>({ phase: "connecting", detail: "" });
  readonly partials = new Store<readonly Partial[]>([]);
  /** Seconds of audio that could not be sent (an outage longer than the held audio). */
  readonly lostSeconds = new Store<number>(0);
  readonly conversation: string;
  private socket: WebSocket | null = null;
  private ready = false;
  private held: ArrayBuffer[] = [];
  private heldBytes = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private ending: (() => void) | null = null;
  private ended: Promise<void> | null = null;
  private uplinkStalled = false;
  private finished = false;
  private readonly webSocket: WebSocketFactory;
  private readonly location: Location;
  private readonly backoff: Backoff;
  private readonly language: string;

  constructor(
    conversation: string,
    readonly speaker: string,
    private readonly onFinal: (segment: Segment) => void,
    options: SpeakerOptions = {},
  ) {
    this.conversation = conversation;
    this.webSocket = options.webSocket ?? browserWebSocket;
    this.location = options.location ?? window.location;
    this.backoff = options.backoff ?? new Backoff();
    this.language = options.language ?? "en-US";
    this.connect();
  }

  /** One chunk of 16 kHz mono Int16 PCM: sent now, or held while the socket reconnects. */
  send(pcm: ArrayBuffer): void {
    if (this.finished || this.ending) return;
    if (this.ready && this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(pcm);
      this.checkUplink(this.socket.bufferedAmount / BYTES_PER_SECOND);
      return;
    }
    this.held.push(pcm);
    this.heldBytes += pcm.byteLength;
    let dropped = 0;
    while (this.heldBytes > HELD_AUDIO_SECONDS * BYTES_PER_SECOND && this.held.length > 1) {
      const oldest = this.held.shift()!;
      this.heldBytes -= oldest.byteLength;
      dropped += oldest.byteLength;
    }
    if (dropped > 0) this.lostSeconds.update((seconds) => seconds + dropped / BYTES_PER_SECOND);
  }

  /**
   * Finish: the server flushes and sends the remaining finals, then closes. Resolves once it has
   * (or after ``END_TIMEOUT_MS``); the connection is not reopened after this.
   */
  end(): Promise<void> {
    if (this.finished) return Promise.resolve();
    this.ended ??= this.sendEnd();
    return this.ended;
  }

  private sendEnd(): Promise<void> {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      // Stopped while reconnecting: what was held never reaches the server, and the user is told.
      const unsent = this.heldBytes / BYTES_PER_SECOND;
      this.held = [];
      this.heldBytes = 0;
      if (unsent > 0) this.lostSeconds.update((seconds) => seconds + unsent);
      this.finish(
        unsent > 0
          ? `Stopped while reconnecting: ${unsent.toFixed(1)} s of speech was not sent.`
          : "",
      );
      socket?.close(1000);
      return Promise.resolve();
    }
    for (const chunk of this.held) socket.send(chunk);
    this.held = [];
    this.heldBytes = 0;
    socket.send(JSON.stringify({ type: "end" }));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        socket.close(1000, "no close after end");
        this.finish("Stopped before the last captions arrived.");
        resolve();
      }, END_TIMEOUT_MS);
      this.ending = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * The network not keeping up shows as audio piling up in the browser's send buffer: the user
   * sees "stalled" (their words will arrive late) until it drains.
   */
  private checkUplink(waitingSeconds: number): void {
    const phase = this.state.get().phase;
    if (!this.uplinkStalled && waitingSeconds >= UPLINK_STALLED_SECONDS && phase === "live") {
      this.uplinkStalled = true;
      const detail = `${waitingSeconds.toFixed(1)} s of audio waiting to be sent: the connection is slow.`;
      this.state.set({ phase: "stalled", detail });
    } else if (this.uplinkStalled && waitingSeconds <= UPLINK_DRAINED_SECONDS) {
      this.uplinkStalled = false;
      if (phase === "stalled") this.state.set({ phase: "live", detail: "" });
    }
  }

  private connect(): void {
    this.retryTimer = null;
    const query = {
      sampleRate: String(SAMPLE_RATE),
      conversation: this.conversation,
      speaker: this.speaker,
      language: this.language,
    };
    const socket = this.webSocket(socketUrl("/api/stt/transcribe", query, this.location));
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    this.ready = false;
    let serverError = "";
    socket.onmessage = (event: MessageEvent) => {
      const message = parseSpeakerMessage(event.data);
      if (message === null) return;
      switch (message.type) {
        case "ready":
          this.ready = true;
          this.uplinkStalled = false;
          this.backoff.reset();
          // A new session counts audio time from zero: older partials cannot be matched anymore.
          this.partials.set([]);
          for (const chunk of this.held) socket.send(chunk);
          this.held = [];
          this.heldBytes = 0;
          this.state.set({ phase: "live", detail: "" });
          break;
        case "partial":
          this.partials.update((partials) => withPartial(partials, message));
          break;
        case "final":
          this.partials.update((partials) => withoutFinalized(partials, message.segment));
          this.onFinal(message.segment);
          break;
        case "status":
          if (!this.ending) this.state.set({ phase: message.state, detail: message.detail });
          break;
        case "error":
          serverError = message.message;
          break;
      }
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.ready = false;
      const reason = serverError || event.reason || `connection closed (${event.code})`;
      if (this.ending || this.finished) {
        this.finish(event.code === 1000 ? "" : reason);
      } else if (PERMANENT_CLOSE_CODES.has(event.code)) {
        this.finished = true;
        this.state.set({ phase: "error", detail: reason });
      } else {
        this.state.set({ phase: "reconnecting", detail: `Connection lost: ${reason}` });
        this.retryTimer = setTimeout(() => this.connect(), this.backoff.next());
      }
    };
  }

  private finish(problem: string): void {
    this.finished = true;
    this.partials.set([]);
    this.state.set(
      problem
        ? { phase: "error", detail: problem }
        : { phase: "ended", detail: "Every caption was delivered." },
    );
    const ending = this.ending;
    this.ending = null;
    ending?.();
  }
}

/** ``partials`` with ``update`` replacing the partial of the same result, or added. */
export function withPartial(
  partials: readonly Partial[],
  update: { resultId: string; text: string; start: number; end: number },
  now = Date.now(),
): readonly Partial[] {
  const partial: Partial = { ...update, updated: now };
  const others = partials.filter((existing) => existing.resultId !== update.resultId);
  return [...others, partial].sort((a, b) => a.start - b.start);
}

/** ``partials`` without those the final ``segment`` covers (they ended before it did). */
export function withoutFinalized(
  partials: readonly Partial[],
  segment: Segment,
): readonly Partial[] {
  return partials.filter((partial) => partial.start > segment.end);
}
