/**
 * AudioWorklet processor that turns microphone input into 16 kHz mono int16 PCM chunks.
 *
 * Load it with `audioContext.audioWorklet.addModule(url)` and create an
 * `AudioWorkletNode(context, CAPTURE_PROCESSOR, { processorOptions })`; it posts
 * {@link CaptureMessage}s and accepts {@link CaptureCommand}s on its port.
 */
import {
  CAPTURE_PROCESSOR,
  type CaptureCommand,
  type CaptureMessage,
  type CaptureProcessorOptions,
} from "./messages";
import { Chunker, Resampler, type Chunk } from "./resampler";

/** Worklet-side view of the AudioWorkletNode options (not declared by @types/audioworklet). */
interface NodeOptions {
  processorOptions?: CaptureProcessorOptions;
}

/** Downmixes, resamples and chunks the first input; outputs nothing. */
class CaptureProcessor extends AudioWorkletProcessor implements AudioWorkletProcessorImpl {
  private readonly resampler: Resampler;
  private readonly chunker: Chunker;
  private mono = new Float32Array(128);
  private muted = false;

  constructor(options?: NodeOptions) {
    super();
    const outputRate = options?.processorOptions?.outputRate ?? 16000;
    const chunkMs = options?.processorOptions?.chunkMs ?? 100;
    // `sampleRate` is the AudioContext's rate, a global of the worklet scope.
    this.resampler = new Resampler(sampleRate, outputRate);
    this.chunker = new Chunker(Math.max(1, Math.round((outputRate * chunkMs) / 1000)));
    this.port.onmessage = (event: MessageEvent<CaptureCommand>) => this.command(event.data);
  }

  process(inputs: Float32Array[][]): boolean {
    const channels = inputs[0];
    const first = channels?.[0];
    if (!channels || !first) return true; // disconnected input: keep alive, emit nothing
    const frames = first.length;
    if (this.mono.length !== frames) this.mono = new Float32Array(frames);
    const mono = this.mono;
    mono.set(first);
    for (let c = 1; c < channels.length; c++) {
      const ch = channels[c]!;
      for (let i = 0; i < frames; i++) mono[i]! += ch[i]!;
    }
    if (channels.length > 1) {
      const scale = 1 / channels.length;
      for (let i = 0; i < frames; i++) mono[i]! *= scale;
    }

    // Resample even while muted so the filter state and output timing stay continuous.
    const resampled = this.resampler.process(mono);
    if (this.muted) resampled.fill(0);
    for (const chunk of this.chunker.push(resampled)) this.post(chunk);
    return true;
  }

  private command(cmd: CaptureCommand): void {
    switch (cmd.type) {
      case "mute":
        this.muted = cmd.muted;
        break;
      case "flush": {
        const chunk = this.chunker.flush();
        if (chunk) this.post(chunk);
        this.send({ type: "flushed" });
        break;
      }
    }
  }

  private post(chunk: Chunk): void {
    this.send({ type: "chunk", pcm: chunk.pcm, level: chunk.level }, [chunk.pcm]);
  }

  private send(message: CaptureMessage, transfer: Transferable[] = []): void {
    this.port.postMessage(message, transfer);
  }
}

registerProcessor(CAPTURE_PROCESSOR, CaptureProcessor);
