/** What both websockets share: the states a user sees and the delay before each retry. */

export type Phase = "idle" | "connecting" | "live" | "reconnecting" | "stalled" | "error" | "ended";

export interface ConnectionState {
  readonly phase: Phase;
  /** For a person: what is happening or what went wrong (the server's own message if it sent one). */
  readonly detail: string;
}

export const IDLE: ConnectionState = { phase: "idle", detail: "" };

/** The browser's WebSocket constructor; tests pass a stand-in for the browser's. */
export type WebSocketFactory = (url: string) => WebSocket;

export const browserWebSocket: WebSocketFactory = (url) => new WebSocket(url);

/**
 * Exponential backoff with full jitter: retries spread out when a server comes back and every page
 * reconnects at once.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly firstMs = 500,
    private readonly maxMs = 10_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next retry; each call doubles the ceiling, up to ``maxMs``. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.firstMs * 2 ** this.attempt);
    this.attempt += 1;
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** ``error``'s text for a person, whatever was thrown. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
