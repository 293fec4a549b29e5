/**
 * A stand-in for the browser's WebSocket: records the URL and every frame the code under test
 * sends, and lets a test play the server (open, message, close) by calling the handlers the code
 * assigned. Nothing happens on its own: every event is delivered by the test.
 */

export type Frame = string | ArrayBufferLike | Blob | ArrayBufferView;

export class FakeWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readonly url: string;
  readyState: number = FakeWebSocket.CONNECTING;
  /** Bytes the "browser" has not sent yet; tests set it to play a slow network. */
  bufferedAmount = 0;
  binaryType = "blob";
  readonly sent: Frame[] = [];
  /** What the client passed to ``close()``, if it closed the socket itself. */
  closedByClient: { code: number | undefined; reason: string | undefined } | null = null;

  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;

  constructor(url: string) {
    this.url = url;
  }

  send(data: Frame): void {
    // As in a browser: sending before the socket opens is an error, so a test notices.
    if (this.readyState !== FakeWebSocket.OPEN)
      throw new Error(`send() while readyState=${this.readyState}`);
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
    this.readyState = FakeWebSocket.CLOSING;
  }

  // ---- the server's side, driven by the test ----

  /** The connection opened. */
  open(): void {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.({ type: "open" } as Event);
  }

  /** A text frame: ``value`` as is if it is a string, else as JSON. */
  receive(value: unknown): void {
    const data = typeof value === "string" ? value : JSON.stringify(value);
    this.onmessage?.({ type: "message", data } as MessageEvent);
  }

  /** The connection closed with ``code`` (the server closed it, or the network dropped it). */
  serverClose(code: number, reason = ""): void {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({ type: "close", code, reason, wasClean: code === 1000 } as CloseEvent);
  }

  /** The text frames sent, parsed as JSON. */
  sentJson(): unknown[] {
    return this.sent
      .filter((frame): frame is string => typeof frame === "string")
      .map((text) => JSON.parse(text) as unknown);
  }
}

/** Every socket a connection opened, in order; ``factory`` is what the code under test gets. */
export class FakeSockets {
  readonly all: FakeWebSocket[] = [];

  readonly factory = (url: string): WebSocket => {
    const socket = new FakeWebSocket(url);
    this.all.push(socket);
    return socket as unknown as WebSocket;
  };

  /** The socket opened ``index``-th (0 = first); fails the test if there is none. */
  at(index: number): FakeWebSocket {
    const socket = this.all[index];
    if (!socket) throw new Error(`no socket #${index} (only ${this.all.length} opened)`);
    return socket;
  }

  get last(): FakeWebSocket {
    return this.at(this.all.length - 1);
  }
}

/** A page's location for ``socketUrl`` and friends. */
export function pageAt(href: string): Location {
  const url = new URL(href);
  return { protocol: url.protocol, host: url.host, href: url.href } as Location;
}

/** Let pending promise callbacks run (fetch, response.json(), ...) without moving fake timers. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
}
