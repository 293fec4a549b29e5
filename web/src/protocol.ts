/**
 * Captionist's wire contract as the browser sees it (docs/protocol.md): the Segment, the messages
 * of both websockets, and the relative URLs that reach them through the gateway, the ALB or
 * CloudFront alike.
 */

/** One stabilized sentence of a conversation, as stored and broadcast. */
export interface Segment {
  id: string;
  conversation: string;
  speaker: string;
  text: string;
  /** Seconds of the speaker's session audio. */
  start: number;
  end: number;
  /** Epoch milliseconds at which the text was stabilized. */
  timestamp: number;
  /** Orders segments within a conversation; what `since` takes. */
  cursor: string;
  language: string;
}

/** Messages of `/api/stt/transcribe` (ingest -> a speaker). */
export type SpeakerMessage =
  | { type: "ready"; conversation: string; session: string; sampleRate: number }
  | { type: "partial"; resultId: string; text: string; start: number; end: number }
  | { type: "final"; segment: Segment }
  | { type: "status"; state: "live" | "reconnecting" | "stalled"; detail: string }
  | { type: "error"; code: string; message: string };

/** Messages of `/api/stt/connect` (broadcaster -> a listener). */
export type ListenerMessage =
  | { type: "snapshot"; conversation: string; segments: Segment[] }
  | { type: "segments"; conversation: string; segments: Segment[] };

export const TRANSCRIPT_FORMATS = ["txt", "srt", "vtt", "json"] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

/** The contract's conversation ids: 1 to 64 letters, digits, `-` or `_`. */
export const CONVERSATION_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_SPEAKER_NAME = 64;
/** The name the server gives a speaker who sends none. */
export const DEFAULT_SPEAKER = "Speaker";
/** The rate the capture worklet produces and the audio socket announces. */
export const SAMPLE_RATE = 16_000;

/** Close codes after which the same request can never succeed: retrying would only repeat it. */
export const PERMANENT_CLOSE_CODES: ReadonlySet<number> = new Set([1003, 1008, 1009]);

/** A websocket URL on this page's host: `wss:` under https, `ws:` otherwise. */
export function socketUrl(path: string, query: Record<string, string>, page: Location): string {
  const scheme = page.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${page.host}${path}?${new URLSearchParams(query).toString()}`;
}

/** Where the whole conversation is exported in ``format``. */
export function transcriptPath(conversation: string, format: TranscriptFormat): string {
  return `/api/stt/conversations/${encodeURIComponent(conversation)}/transcript?format=${format}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** ``value`` if it has every Segment field with the right type, else ``null``. */
export function asSegment(value: unknown): Segment | null {
  if (!isRecord(value)) return null;
  const strings = ["id", "conversation", "speaker", "text", "cursor", "language"] as const;
  const numbers = ["start", "end", "timestamp"] as const;
  if (strings.some((key) => typeof value[key] !== "string")) return null;
  if (numbers.some((key) => typeof value[key] !== "number")) return null;
  return value as unknown as Segment;
}

function segmentsOf(value: unknown): Segment[] | null {
  if (!Array.isArray(value)) return null;
  const segments = value.map(asSegment);
  return segments.every((segment) => segment !== null) ? (segments as Segment[]) : null;
}

/** A listener message parsed and checked, or ``null`` for anything else. */
export function parseListenerMessage(data: unknown): ListenerMessage | null {
  const message = parseJson(data);
  if (!message || (message.type !== "snapshot" && message.type !== "segments")) return null;
  const segments = segmentsOf(message.segments);
  if (segments === null || typeof message.conversation !== "string") return null;
  return { type: message.type, conversation: message.conversation, segments };
}

/** The fields each speaker message must carry, by type, besides ``type`` (``final``: a Segment). */
const SPEAKER_FIELDS: Record<string, { strings: readonly string[]; numbers: readonly string[] }> = {
  ready: { strings: ["conversation", "session"], numbers: ["sampleRate"] },
  partial: { strings: ["resultId", "text"], numbers: ["start", "end"] },
  status: { strings: ["state", "detail"], numbers: [] },
  error: { strings: ["code", "message"], numbers: [] },
};
const UPSTREAM_STATES: readonly unknown[] = ["live", "reconnecting", "stalled"];

/** A speaker message parsed and checked, or ``null`` for anything else. */
export function parseSpeakerMessage(data: unknown): SpeakerMessage | null {
  const message = parseJson(data);
  if (!message || typeof message.type !== "string") return null;
  if (message.type === "final") {
    const segment = asSegment(message.segment);
    return segment ? { type: "final", segment } : null;
  }
  const fields = SPEAKER_FIELDS[message.type];
  if (!fields) return null;
  if (fields.strings.some((key) => typeof message[key] !== "string")) return null;
  if (fields.numbers.some((key) => typeof message[key] !== "number")) return null;
  if (message.type === "status" && !UPSTREAM_STATES.includes(message.state)) return null;
  return message as unknown as SpeakerMessage;
}

function parseJson(data: unknown): Record<string, unknown> | null {
  if (typeof data !== "string") return null;
  try {
    const value: unknown = JSON.parse(data);
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

/** The ``message`` of an ``{"type":"error"}`` frame (either socket sends one before closing), or "". */
export function errorFrameMessage(data: unknown): string {
  const message = parseJson(data);
  return message?.type === "error" && typeof message.message === "string" ? message.message : "";
}

/** The JSON error body the API answers HTTP errors with: ``{"error":{"code","message"}}``. */
export async function httpErrorMessage(response: Response): Promise<string> {
  try {
    const body: unknown = await response.json();
    if (isRecord(body) && isRecord(body.error) && typeof body.error.message === "string") {
      return body.error.message;
    }
  } catch {
    // Not JSON: the status line says enough.
  }
  return `${response.status} ${response.statusText}`.trim();
}
