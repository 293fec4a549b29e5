import { memo, useEffect, useLayoutEffect, useRef, useState, type CSSProperties } from "react";

import type { Segment } from "../protocol";
import type { Partial } from "../speaker";

/** How close to the bottom (px) still counts as "at the newest caption". */
const AT_BOTTOM = 48;

/** Speaker colors, each readable on the light background (and brightened on the dark one). */
const SPEAKER_COLORS = [
  "#1f6fd1",
  "#b0428f",
  "#1e7b5a",
  "#b35300",
  "#6a4bc4",
  "#007c8a",
  "#a3341f",
  "#5c6b00",
];

/** A stable color for each speaker name, so people are told apart at a glance. */
function colorOf(speaker: string): CSSProperties {
  let hash = 0;
  for (const char of speaker) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return { "--speaker-color": SPEAKER_COLORS[hash % SPEAKER_COLORS.length] } as CSSProperties;
}

const time = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

const SegmentItem = memo(function SegmentItem({ segment }: { segment: Segment }) {
  const stabilized = new Date(segment.timestamp);
  return (
    <li className="segment" data-cursor={segment.cursor} style={colorOf(segment.speaker)}>
      <time dateTime={stabilized.toISOString()}>{time.format(stabilized)}</time>
      <span className="speaker">{segment.speaker}</span>
      <span className="text">{segment.text}</span>
    </li>
  );
});

/**
 * The conversation, newest at the bottom. It follows new captions while the reader is at the
 * bottom, and stays put (offering a jump back) once they scroll up to read.
 */
export function TranscriptView({
  segments,
  partials,
  partialSpeaker,
}: {
  segments: readonly Segment[];
  partials: readonly Partial[];
  partialSpeaker: string;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const [following, setFollowing] = useState(true);
  const [unseen, setUnseen] = useState(false);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    if (following) element.scrollTop = element.scrollHeight;
    else setUnseen(true);
  }, [segments, partials, following]);

  useEffect(() => {
    if (following) setUnseen(false);
  }, [following]);

  const onScroll = () => {
    const element = scroller.current;
    if (!element) return;
    setFollowing(element.scrollHeight - element.scrollTop - element.clientHeight <= AT_BOTTOM);
  };

  const jump = () => {
    const element = scroller.current;
    if (element) element.scrollTop = element.scrollHeight;
    setFollowing(true);
  };

  return (
    <section className="transcript" aria-labelledby="transcript-heading">
      <h2 id="transcript-heading" className="visually-hidden">
        Transcript
      </h2>
      <div
        className="transcript-scroll"
        ref={scroller}
        onScroll={onScroll}
        tabIndex={0}
        aria-label="Transcript, newest last"
      >
        {segments.length === 0 && partials.length === 0 && (
          <p className="empty">
            Nothing said yet. Press “Start speaking”, or share the link and wait for others.
          </p>
        )}
        <ol id="segments" aria-live="polite" aria-relevant="additions">
          {segments.map((segment) => (
            <SegmentItem key={segment.cursor} segment={segment} />
          ))}
        </ol>
        {partials.map((partial) => (
          <p
            key={partial.resultId}
            className="partial"
            style={colorOf(partialSpeaker)}
            aria-hidden="true"
          >
            <span className="speaker">{partialSpeaker}</span>
            <span className="text">{partial.text}</span>
          </p>
        ))}
      </div>
      {!following && unseen && (
        <button type="button" className="jump" onClick={jump}>
          Jump to the newest captions
        </button>
      )}
    </section>
  );
}
