/**
 * The microphone: getUserMedia, an AudioContext at the device's own rate, and the capture worklet
 * that turns it into 16 kHz mono Int16 chunks of about 100 ms.
 */

import captureProcessorUrl from "./capture-processor.ts?worker&url";
import { CAPTURE_PROCESSOR, type CaptureCommand, type CaptureMessage } from "./messages";
import { SAMPLE_RATE } from "../protocol";

export interface MicrophoneOptions {
  /** ``deviceId`` from ``enumerateDevices``; empty for the system default. */
  deviceId: string;
  /** The browser's echo cancellation, noise suppression and automatic gain (off by default: they distort speech for recognition). */
  voiceProcessing: boolean;
  onChunk: (pcm: ArrayBuffer) => void;
  onLevel: (level: number) => void;
}

/** A microphone problem, with the sentence to show the user. */
export class MicrophoneError extends Error {
  constructor(
    readonly reason: "denied" | "missing" | "busy" | "unsupported" | "failed",
    message: string,
  ) {
    super(message);
  }
}

/** getUserMedia's DOMException as a sentence a person can act on. */
export function microphoneError(error: unknown): MicrophoneError {
  const name = error instanceof DOMException || error instanceof Error ? error.name : "";
  switch (name) {
    case "NotAllowedError":
    case "SecurityError":
      return new MicrophoneError(
        "denied",
        "Microphone access is blocked. Allow it for this site in the browser's address bar, then press Start again.",
      );
    case "NotFoundError":
    case "OverconstrainedError":
      return new MicrophoneError(
        "missing",
        "No microphone was found. Connect one (or pick another in the list), then press Start again.",
      );
    case "NotReadableError":
    case "AbortError":
      return new MicrophoneError(
        "busy",
        "The microphone could not be opened: another application may be using it.",
      );
    default:
      return new MicrophoneError(
        "failed",
        `The microphone could not be started: ${error instanceof Error ? error.message : String(error)}`,
      );
  }
}

/** The audio inputs the browser lists (names only once the user has allowed the microphone). */
export async function listMicrophones(): Promise<MediaDeviceInfo[]> {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices.filter((device) => device.kind === "audioinput" && device.deviceId !== "");
}

export class Microphone {
  private constructor(
    private readonly stream: MediaStream,
    private readonly context: AudioContext,
    private readonly node: AudioWorkletNode,
  ) {}

  /** Open the microphone and start producing chunks; throws ``MicrophoneError``. */
  static async open(options: MicrophoneOptions): Promise<Microphone> {
    if (!navigator.mediaDevices?.getUserMedia || typeof AudioWorkletNode === "undefined") {
      throw new MicrophoneError(
        "unsupported",
        "This browser cannot capture audio here. Use a current browser, over https (or on localhost).",
      );
    }
    const processing = options.voiceProcessing;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: {
          ...(options.deviceId ? { deviceId: { exact: options.deviceId } } : {}),
          channelCount: 1,
          echoCancellation: processing,
          noiseSuppression: processing,
          autoGainControl: processing,
        },
      });
    } catch (error) {
      throw microphoneError(error);
    }
    // The device's own rate (44.1 or 48 kHz): the worklet filters and resamples to 16 kHz.
    const context = new AudioContext({ latencyHint: "interactive" });
    try {
      await context.audioWorklet.addModule(captureProcessorUrl);
      const node = new AudioWorkletNode(context, CAPTURE_PROCESSOR, {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        channelCount: 1,
        channelCountMode: "explicit",
        processorOptions: { outputRate: SAMPLE_RATE, chunkMs: 100 },
      });
      node.port.onmessage = (event: MessageEvent<CaptureMessage>) => {
        if (event.data.type === "chunk") {
          options.onChunk(event.data.pcm);
          options.onLevel(event.data.level);
        }
      };
      context.createMediaStreamSource(stream).connect(node);
      // The worklet writes nothing: connected only so the graph keeps pulling it.
      node.connect(context.destination);
      if (context.state === "suspended") await context.resume();
      return new Microphone(stream, context, node);
    } catch (error) {
      for (const track of stream.getTracks()) track.stop();
      await context.close();
      throw microphoneError(error);
    }
  }

  /** The label of the device actually in use. */
  get label(): string {
    return this.stream.getAudioTracks()[0]?.label ?? "";
  }

  /** The rate the device delivers (what the worklet resamples from). */
  get inputRate(): number {
    return this.context.sampleRate;
  }

  setMuted(muted: boolean): void {
    this.command({ type: "mute", muted });
  }

  /** Stop capturing; the last partial chunk is delivered first. */
  async close(): Promise<void> {
    const flushed = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 500);
      this.node.port.addEventListener("message", (event: MessageEvent<CaptureMessage>) => {
        if (event.data.type === "flushed") {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    this.command({ type: "flush" });
    await flushed;
    for (const track of this.stream.getTracks()) track.stop();
    this.node.disconnect();
    await this.context.close();
  }

  private command(command: CaptureCommand): void {
    this.node.port.postMessage(command);
  }
}
