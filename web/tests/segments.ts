import type { Segment } from "../src/protocol";

const BASE_TIMESTAMP = 1_764_072_000_000;

/** The ``n``-th segment of conversation ``abc``: its cursor sorts by ``n``. */
export function segment(n: number, overrides: Partial<Segment> = {}): Segment {
  const timestamp = BASE_TIMESTAMP + n * 1000;
  const id = `seg-${n}`;
  return {
    id,
    conversation: "abc",
    speaker: "Alice",
    text: `sentence ${n}`,
    start: n,
    end: n + 0.8,
    timestamp,
    cursor: `${timestamp}#${id}`,
    language: "en-US",
    ...overrides,
  };
}

export function texts(segments: readonly Segment[]): string[] {
  return segments.map((s) => s.text);
}
