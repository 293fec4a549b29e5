import { useCallback, useEffect, useState } from "react";

import { listMicrophones } from "../audio/microphone";
import { preferences } from "../preferences";
import { DEFAULT_SPEAKER, MAX_SPEAKER_NAME } from "../protocol";
import type { Speaking } from "../speaking";
import { useStore } from "./hooks";
import { StatusBadge } from "./StatusBadge";

/** This person's microphone: name, device, processing, start/stop, mute, level and socket state. */
export function SpeakerPanel({
  speaking,
  name,
  onNameChange,
}: {
  speaking: Speaking;
  name: string;
  onNameChange: (name: string) => void;
}) {
  const state = useStore(speaking.state);
  const connection = useStore(speaking.connection);
  const lostSeconds = useStore(speaking.lostSeconds);
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  const [deviceId, setDeviceId] = useState(preferences.deviceId);
  const [voiceProcessing, setVoiceProcessing] = useState(preferences.voiceProcessing);
  const active = state.microphone !== "off";

  const refreshDevices = useCallback(() => {
    listMicrophones().then(setDevices, () => setDevices([]));
  }, []);
  useEffect(() => {
    refreshDevices();
    navigator.mediaDevices?.addEventListener?.("devicechange", refreshDevices);
    return () => navigator.mediaDevices?.removeEventListener?.("devicechange", refreshDevices);
  }, [refreshDevices]);
  // Device names are only listed once the microphone is allowed.
  useEffect(() => {
    if (state.microphone === "on") refreshDevices();
  }, [state.microphone, refreshDevices]);

  const chooseDevice = (id: string) => {
    setDeviceId(id);
    preferences.setDeviceId(id);
    void speaking.switchMicrophone(id, voiceProcessing);
  };
  const chooseProcessing = (on: boolean) => {
    setVoiceProcessing(on);
    preferences.setVoiceProcessing(on);
    void speaking.switchMicrophone(deviceId, on);
  };
  const known = deviceId === "" || devices.some((device) => device.deviceId === deviceId);

  return (
    <section className="card microphone" aria-labelledby="speaker-heading">
      <h2 id="speaker-heading">Your microphone</h2>
      <label htmlFor="speaker-name">Your name</label>
      <input
        id="speaker-name"
        value={name}
        maxLength={MAX_SPEAKER_NAME}
        placeholder={DEFAULT_SPEAKER}
        autoComplete="nickname"
        disabled={active}
        onChange={(event) => onNameChange(event.target.value)}
      />
      <label htmlFor="microphone-select">Microphone</label>
      <select
        id="microphone-select"
        value={known ? deviceId : ""}
        onChange={(event) => chooseDevice(event.target.value)}
      >
        <option value="">Default microphone</option>
        {devices.map((device, index) => (
          <option key={device.deviceId} value={device.deviceId}>
            {device.label || `Microphone ${index + 1}`}
          </option>
        ))}
      </select>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={voiceProcessing}
          onChange={(event) => chooseProcessing(event.target.checked)}
        />
        Echo cancellation, noise suppression and automatic gain
      </label>
      <p className="hint">
        Off gives the most accurate captions; turn it on for speakers or a noisy room.
      </p>

      <div className="row controls">
        {!active ? (
          <button
            type="button"
            className="primary"
            onClick={() =>
              void speaking.start(name.trim() || DEFAULT_SPEAKER, deviceId, voiceProcessing)
            }
          >
            Start speaking
          </button>
        ) : (
          <button
            type="button"
            className="primary"
            disabled={state.microphone !== "on"}
            onClick={() => void speaking.stop()}
          >
            {state.microphone === "stopping" ? "Finishing…" : "Stop speaking"}
          </button>
        )}
        <button
          type="button"
          aria-pressed={state.muted}
          disabled={state.microphone !== "on"}
          onClick={() => speaking.setMuted(!state.muted)}
        >
          {state.muted ? "Unmute" : "Mute"}
        </button>
      </div>
      <LevelMeter speaking={speaking} active={state.microphone === "on" && !state.muted} />
      {state.microphone === "on" && state.deviceLabel && (
        <p className="hint">Using {state.deviceLabel}</p>
      )}
      <StatusBadge name="Audio" state={connection} id="speaker-status" />
      {state.problem && (
        <p className="problem" id="microphone-problem" role="alert">
          {state.problem}
        </p>
      )}
      {lostSeconds > 0 && (
        <p className="problem" role="alert">
          {lostSeconds.toFixed(1)} s of speech could not be sent while the connection was down.
        </p>
      )}
    </section>
  );
}

/** The microphone's level: re-rendered on its own ten times a second, without the panel. */
function LevelMeter({ speaking, active }: { speaking: Speaking; active: boolean }) {
  const level = useStore(speaking.level);
  return (
    <div
      className="meter"
      role="meter"
      aria-label="Microphone level"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(level * 100)}
      data-active={active}
    >
      <div className="meter-fill" style={{ transform: `scaleX(${level})` }} />
    </div>
  );
}
