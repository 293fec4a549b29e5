/**
 * The conversation as this page knows it: every segment once, in cursor order, whichever way it
 * arrived (the transcript export, the listener socket's snapshot and deltas, or the speaker's own
 * `final`), and however often (a reconnection that overlaps, a final seen on both sockets).
 */

import type { Segment } from "./protocol";

export interface TranscriptState {
  /** In cursor order, each cursor once. */
  readonly segments: readonly Segment[];
  /**
   * The newest cursor the listener socket (or the export) delivered: what a reconnection passes
   * as `since`. Finals seen only on the speaker's socket never move it, so segments of others
   * stabilized in between are still fetched.
   */
  readonly since: string | null;
}

export const EMPTY_TRANSCRIPT: TranscriptState = { segments: [], since: null };

/** Where ``cursor`` belongs in ``segments`` (sorted by cursor); ``found`` if it is there. */
function position(segments: readonly Segment[], cursor: string): { index: number; found: boolean } {
  let low = 0;
  let high = segments.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const here = segments[middle]!.cursor;
    if (here === cursor) return { index: middle, found: true };
    if (here < cursor) low = middle + 1;
    else high = middle;
  }
  return { index: low, found: false };
}

/**
 * ``state`` with ``incoming`` merged in. Returns ``state`` itself when nothing changed, so a
 * repeated delivery does not even re-render.
 *
 * ``fromListener``: the segments came from the broadcaster (socket or export), in cursor order
 * per the contract, so the newest of them is where a reconnection resumes.
 */
export function addSegments(
  state: TranscriptState,
  incoming: readonly Segment[],
  fromListener: boolean,
): TranscriptState {
  let segments: Segment[] | null = null;
  let since = state.since;
  for (const segment of incoming) {
    const current = segments ?? state.segments;
    const { index, found } = position(current, segment.cursor);
    if (!found) {
      segments ??= [...state.segments];
      if (index === segments.length) segments.push(segment);
      else segments.splice(index, 0, segment);
    }
    if (fromListener && (since === null || segment.cursor > since)) since = segment.cursor;
  }
  if (segments === null && since === state.since) return state;
  return { segments: segments ?? state.segments, since };
}
