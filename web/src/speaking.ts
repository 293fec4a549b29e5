/**
 * One person speaking into a conversation: their microphone feeding their audio socket. The
 * microphone can be switched (device, voice processing) while the socket stays open, and the
 * socket can reconnect while the microphone keeps capturing.
 */

import { Microphone, MicrophoneError, microphoneError } from "./audio/microphone";
import type { ConnectionState } from "./connection";
import type { Segment } from "./protocol";
import { SpeakerConnection, type Partial } from "./speaker";
import { Store } from "./store";

export interface SpeakingState {
  readonly microphone: "off" | "starting" | "on" | "stopping";
  readonly muted: boolean;
  /** The microphone's problem, for the user; empty when there is none. */
  readonly problem: string;
  readonly deviceLabel: string;
}

const OFF: SpeakingState = {
  microphone: "off",
  muted: false,
  problem: "",
  deviceLabel: "",
};
const NOT_SPEAKING: ConnectionState = { phase: "idle", detail: "" };

export class Speaking {
  readonly state = new Store<SpeakingState>(OFF);
  /** The microphone's level, 0..1, ten times a second: its own store, so only the meter redraws. */
  readonly level = new Store<number>(0);
  /** The audio socket's state ("idle" when not speaking). */
  readonly connection = new Store<ConnectionState>(NOT_SPEAKING);
  readonly partials = new Store<readonly Partial[]>([]);
  readonly lostSeconds = new Store<number>(0);
  private microphone: Microphone | null = null;
  private socket: SpeakerConnection | null = null;
  private unsubscribe: (() => void)[] = [];

  constructor(
    private readonly conversation: string,
    private readonly onFinal: (segment: Segment) => void,
  ) {}

  /** Start speaking as ``speaker`` with the given microphone settings. */
  async start(speaker: string, deviceId: string, voiceProcessing: boolean): Promise<void> {
    if (this.state.get().microphone !== "off") return;
    this.state.set({ ...OFF, microphone: "starting" });
    try {
      await this.openMicrophone(deviceId, voiceProcessing);
    } catch (error) {
      const problem = error instanceof MicrophoneError ? error : microphoneError(error);
      this.state.set({ ...OFF, problem: problem.message });
      return;
    }
    const socket = new SpeakerConnection(this.conversation, speaker, this.onFinal);
    this.socket = socket;
    this.unsubscribe = [
      mirror(socket.state, this.connection),
      mirror(socket.partials, this.partials),
      mirror(socket.lostSeconds, this.lostSeconds),
      // Refused for good (e.g. a bad name): capturing on would send audio nowhere.
      socket.state.subscribe(() => {
        if (socket.state.get().phase === "error")
          void this.closeMicrophone().then(() => this.release());
      }),
    ];
  }

  /** Switch microphone or processing while speaking; the audio socket stays as it is. */
  async switchMicrophone(deviceId: string, voiceProcessing: boolean): Promise<void> {
    if (this.state.get().microphone !== "on") return;
    const old = this.microphone;
    this.microphone = null;
    await old?.close();
    try {
      await this.openMicrophone(deviceId, voiceProcessing);
    } catch (error) {
      const problem = error instanceof MicrophoneError ? error : microphoneError(error);
      this.state.update((state) => ({ ...state, problem: problem.message }));
      this.level.set(0);
    }
  }

  setMuted(muted: boolean): void {
    this.microphone?.setMuted(muted);
    this.state.update((state) => ({ ...state, muted }));
    if (muted) this.level.set(0);
  }

  /** Stop: the last audio is sent, the last finals arrive, then the socket closes. */
  async stop(): Promise<void> {
    if (this.state.get().microphone !== "on") return;
    this.state.update((state) => ({ ...state, microphone: "stopping" }));
    await this.closeMicrophone();
    await this.socket?.end();
    this.release();
  }

  /** Leave at once (the page is closing or moving to another conversation). */
  dispose(): void {
    void this.microphone?.close();
    this.microphone = null;
    void this.socket?.end();
    this.release();
  }

  private async closeMicrophone(): Promise<void> {
    const microphone = this.microphone;
    this.microphone = null;
    await microphone?.close();
  }

  private release(): void {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    this.unsubscribe = [];
    this.socket = null;
    this.partials.set([]);
    this.level.set(0);
    // "ended" (every caption delivered) and "error" stay on show until the next start.
    const phase = this.connection.get().phase;
    if (phase !== "error" && phase !== "ended") this.connection.set(NOT_SPEAKING);
    this.state.update((state) => ({ ...OFF, problem: state.problem }));
  }

  private async openMicrophone(deviceId: string, voiceProcessing: boolean): Promise<void> {
    const muted = this.state.get().muted;
    const microphone = await Microphone.open({
      deviceId,
      voiceProcessing,
      onChunk: (pcm) => this.socket?.send(pcm),
      onLevel: (level) => {
        if (this.microphone === microphone) this.level.set(level);
      },
    });
    microphone.setMuted(muted);
    this.microphone = microphone;
    this.state.update((state) => ({
      ...state,
      microphone: "on",
      problem: "",
      deviceLabel: microphone.label,
    }));
  }
}

/** Keep ``target`` equal to ``source``; returns the unsubscribe function. */
function mirror<T>(source: Store<T>, target: Store<T>): () => void {
  target.set(source.get());
  return source.subscribe(() => target.set(source.get()));
}
