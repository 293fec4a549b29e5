import type { ConnectionState, Phase } from "../connection";

const LABELS: Record<Phase, string> = {
  idle: "Off",
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  stalled: "Stalled",
  error: "Error",
  ended: "Stopped",
};

/** One socket's state as a labelled badge; the detail (e.g. the server's message) beside it. */
export function StatusBadge({
  name,
  state,
  id,
}: {
  name: string;
  state: ConnectionState;
  id: string;
}) {
  return (
    <p className="status" id={id} data-state={state.phase} role="status">
      <span className="status-name">{name}:</span>{" "}
      <span className="status-label">{LABELS[state.phase]}</span>
      {state.detail && <span className="status-detail"> {state.detail}</span>}
    </p>
  );
}
