import { useEffect, useState, type CSSProperties } from "react";

import { shareLink } from "../conversation";
import { ListenerConnection } from "../listener";
import { MAX_CAPTION_SIZE, MIN_CAPTION_SIZE, preferences } from "../preferences";
import { DEFAULT_SPEAKER, TRANSCRIPT_FORMATS, transcriptPath } from "../protocol";
import { Speaking } from "../speaking";
import { useStore } from "./hooks";
import { SpeakerPanel } from "./SpeakerPanel";
import { StatusBadge } from "./StatusBadge";
import { TranscriptView } from "./TranscriptView";

const STALE_PARTIAL_MS = 8_000;

/** ``Date.now()``, refreshed every second while ``ticking``. */
function useClock(ticking: boolean): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!ticking) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}

const FORMAT_LABELS = { txt: "Text", srt: "SRT", vtt: "WebVTT", json: "JSON" } as const;

/** One conversation: its live transcript, this person's microphone, sharing and export. */
export function ConversationView({
  conversation,
  onOpen,
}: {
  conversation: string;
  onOpen: (id: string | null) => void;
}) {
  // Created by the effect (not during render) so each mount owns its sockets and closes them.
  const [parts, setParts] = useState<{ listener: ListenerConnection; speaking: Speaking } | null>(
    null,
  );
  useEffect(() => {
    const listener = new ListenerConnection(conversation);
    const speaking = new Speaking(conversation, (segment) => listener.addOwn(segment));
    setParts({ listener, speaking });
    listener.start();
    const online = () => listener.retryNow();
    window.addEventListener("online", online);
    return () => {
      window.removeEventListener("online", online);
      listener.stop();
      speaking.dispose();
    };
  }, [conversation]);
  const [speakerName, setSpeakerName] = useState(preferences.speakerName);
  const [captionSize, setCaptionSize] = useState(preferences.captionSize);
  if (parts === null) return null;
  const { listener, speaking } = parts;

  return (
    <div className="conversation" style={{ "--caption-size": `${captionSize}px` } as CSSProperties}>
      <header className="topbar">
        <a
          className="brand"
          href="/"
          onClick={(event) => {
            event.preventDefault();
            onOpen(null);
          }}
        >
          Captionist
        </a>
        <div className="conversation-id">
          <span className="label">Conversation</span>{" "}
          <code id="conversation-id">{conversation}</code>
        </div>
        <CopyLink conversation={conversation} />
        <ListenerStatus listener={listener} />
      </header>

      <main className="layout">
        <LiveTranscript listener={listener} speaking={speaking} speakerName={speakerName} />
        <aside className="side">
          <SpeakerPanel
            speaking={speaking}
            name={speakerName}
            onNameChange={(name) => {
              setSpeakerName(name);
              preferences.setSpeakerName(name);
            }}
          />
          <section className="card" aria-labelledby="display-heading">
            <h2 id="display-heading">Display</h2>
            <label htmlFor="caption-size">Caption size</label>
            <input
              id="caption-size"
              type="range"
              min={MIN_CAPTION_SIZE}
              max={MAX_CAPTION_SIZE}
              step={2}
              value={captionSize}
              aria-valuetext={`${captionSize} pixels`}
              onChange={(event) => {
                const size = Number(event.target.value);
                setCaptionSize(size);
                preferences.setCaptionSize(size);
              }}
            />
          </section>
          <section className="card" aria-labelledby="export-heading">
            <h2 id="export-heading">Export the transcript</h2>
            <ul className="exports">
              {TRANSCRIPT_FORMATS.map((format) => (
                <li key={format}>
                  <a
                    href={transcriptPath(conversation, format)}
                    download={`${conversation}.${format}`}
                  >
                    {FORMAT_LABELS[format]}
                  </a>
                </li>
              ))}
            </ul>
          </section>
          <button type="button" onClick={() => onOpen(null)}>
            Leave this conversation
          </button>
        </aside>
      </main>
    </div>
  );
}

function ListenerStatus({ listener }: { listener: ListenerConnection }) {
  return <StatusBadge name="Captions" state={useStore(listener.state)} id="listener-status" />;
}

function LiveTranscript({
  listener,
  speaking,
  speakerName,
}: {
  listener: ListenerConnection;
  speaking: Speaking;
  speakerName: string;
}) {
  const transcript = useStore(listener.transcript);
  const partials = useStore(speaking.partials);
  const now = useClock(partials.length > 0);
  // A partial the recognizer dropped (no words after all) never gets its final: let it go.
  const current = partials.filter((partial) => now - partial.updated < STALE_PARTIAL_MS);
  return (
    <TranscriptView
      segments={transcript.segments}
      partials={current}
      partialSpeaker={speakerName || DEFAULT_SPEAKER}
    />
  );
}

/** Copies the shareable link, and says so (the link is also shown to select by hand). */
function CopyLink({ conversation }: { conversation: string }) {
  const link = shareLink(conversation);
  const [copied, setCopied] = useState("");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setCopied("Link copied: anyone who opens it follows this conversation.");
    } catch {
      setCopied(`Copy this link: ${link}`);
    }
  };
  return (
    <div className="share">
      <input
        className="share-link"
        readOnly
        value={link}
        aria-label="Shareable link"
        onFocus={(e) => e.target.select()}
      />
      <button type="button" onClick={() => void copy()}>
        Copy link
      </button>
      <span className="copied" role="status">
        {copied}
      </span>
    </div>
  );
}
