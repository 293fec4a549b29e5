/**
 * Follows a conversation: its whole transcript so far (the JSON export), then the broadcaster's
 * socket (`/api/stt/connect`) from the last cursor seen. A lost connection is retried with backoff
 * and resumes with `since`, so nothing is missed or shown twice.
 */

import {
  Backoff,
  browserWebSocket,
  describe,
  type ConnectionState,
  type WebSocketFactory,
} from "./connection";
import {
  PERMANENT_CLOSE_CODES,
  asSegment,
  errorFrameMessage,
  httpErrorMessage,
  parseListenerMessage,
  socketUrl,
  transcriptPath,
  type Segment,
} from "./protocol";
import { Store } from "./store";
import { EMPTY_TRANSCRIPT, addSegments, type TranscriptState } from "./transcript";

export interface ListenerOptions {
  webSocket?: WebSocketFactory;
  fetch?: typeof fetch;
  location?: Location;
  backoff?: Backoff;
}

export class ListenerConnection {
  readonly state = new Store<ConnectionState>({ phase: "connecting", detail: "" });
  readonly transcript = new Store<TranscriptState>(EMPTY_TRANSCRIPT);
  private socket: WebSocket | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private historyLoaded = false;
  private stopped = false;
  private readonly webSocket: WebSocketFactory;
  private readonly fetch: typeof fetch;
  private readonly location: Location;
  private readonly backoff: Backoff;

  constructor(
    readonly conversation: string,
    options: ListenerOptions = {},
  ) {
    this.webSocket = options.webSocket ?? browserWebSocket;
    this.fetch = options.fetch ?? ((...args) => fetch(...args));
    this.location = options.location ?? window.location;
    this.backoff = options.backoff ?? new Backoff();
  }

  /** Load the history, then follow; returns at once, progress shows in ``state``. */
  start(): void {
    void this.connect();
  }

  /** Stop following for good (the page moves to another conversation). */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.socket?.close(1000, "left the conversation");
    this.socket = null;
  }

  /** Retry now instead of waiting out the backoff (e.g. the browser is back online). */
  retryNow(): void {
    if (this.stopped || this.retryTimer === null) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    void this.connect();
  }

  /** A final this page's own speaker socket received: shown now, deduplicated later. */
  addOwn(segment: Segment): void {
    this.transcript.update((state) => addSegments(state, [segment], false));
  }

  private async connect(): Promise<void> {
    this.retryTimer = null;
    if (!this.historyLoaded) {
      try {
        await this.loadHistory();
      } catch (error) {
        this.retry(`Cannot load the transcript: ${describe(error)}`);
        return;
      }
      if (this.stopped) return;
    }
    const query: Record<string, string> = { conversation: this.conversation };
    const since = this.transcript.get().since;
    if (since !== null) query.since = since;
    const socket = this.webSocket(socketUrl("/api/stt/connect", query, this.location));
    this.socket = socket;
    let serverError = "";
    socket.onmessage = (event: MessageEvent) => {
      const message = parseListenerMessage(event.data);
      if (message === null) {
        serverError = errorFrameMessage(event.data);
        return;
      }
      this.transcript.update((state) => addSegments(state, message.segments, true));
      if (message.type === "snapshot") {
        this.backoff.reset();
        this.state.set({ phase: "live", detail: "" });
      }
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = null;
      const reason = serverError || event.reason || `connection closed (${event.code})`;
      if (PERMANENT_CLOSE_CODES.has(event.code)) {
        this.state.set({ phase: "error", detail: reason });
      } else {
        this.retry(`Connection lost: ${reason}`);
      }
    };
  }

  private async loadHistory(): Promise<void> {
    const response = await this.fetch(transcriptPath(this.conversation, "json"));
    if (response.status === 404) {
      // Nobody has spoken yet: the socket's snapshot brings whatever lands from now on.
      this.historyLoaded = true;
      return;
    }
    if (!response.ok) throw new Error(await httpErrorMessage(response));
    const body = (await response.json()) as { segments?: unknown };
    const segments = Array.isArray(body.segments) ? body.segments.map(asSegment) : [];
    const valid = segments.filter((segment): segment is Segment => segment !== null);
    this.transcript.update((state) => addSegments(state, valid, true));
    this.historyLoaded = true;
  }

  private retry(detail: string): void {
    if (this.stopped) return;
    const delay = this.backoff.next();
    this.state.set({ phase: "reconnecting", detail });
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }
}
