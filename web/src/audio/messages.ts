/**
 * Message shapes shared by the capture AudioWorklet and the main thread.
 *
 * Types and a constant only, so both the worklet bundle and the DOM app can import it.
 */

/** Name under which the capture processor is registered with `registerProcessor`. */
export const CAPTURE_PROCESSOR = "captionist-capture";

/** `processorOptions` accepted by the capture processor's AudioWorkletNode. */
export interface CaptureProcessorOptions {
  /** Output sample rate in Hz (default 16000). */
  outputRate?: number;
  /** Chunk duration in milliseconds (default 100). */
  chunkMs?: number;
}

/** Messages the capture processor posts to the main thread. */
export type CaptureMessage =
  /** A chunk of mono signed 16-bit little-endian PCM at the output rate; `level` is a 0..1 meter value. */
  | { type: "chunk"; pcm: ArrayBuffer; level: number }
  /** Sent after a `flush` command, once any partial chunk has been posted. */
  | { type: "flushed" };

/** Commands the main thread sends to the capture processor's port. */
export type CaptureCommand =
  /** While muted, chunks keep flowing (so the server's audio clock runs) but carry silence and level 0. */
  | { type: "mute"; muted: boolean }
  /** Post the buffered partial chunk, if any, then a `flushed` message. */
  | { type: "flush" };
