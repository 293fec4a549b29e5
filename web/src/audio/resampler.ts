/**
 * Streaming sample-rate conversion and PCM packaging for microphone capture.
 *
 * Pure TypeScript with no DOM or worklet globals, so the AudioWorklet and the
 * node-based tests share exactly the same code.
 */

/** Stopband attenuation the low-pass is designed for, in dB. */
const ATTENUATION_DB = 80;

/** Largest reduced interpolation factor for which one exact table row per phase is kept. */
const MAX_RATIONAL_PHASES = 1024;

/** Rows per input sample of the tabulated kernel used for ratios that do not reduce to a small fraction. */
const TABLE_PHASES = 512;

/** Fraction of the narrower Nyquist frequency where the passband ends (7 kHz of 8 kHz at 16 kHz output). */
const PASSBAND_FRACTION = 0.875;

/** Greatest common divisor of two non-negative integers. */
function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** Zeroth-order modified Bessel function of the first kind, by its power series. */
function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/**
 * Converts a mono float stream from `inputRate` to `outputRate`.
 *
 * A Kaiser-windowed sinc low-pass (cutoff below the narrower of the two Nyquist
 * frequencies, {@link ATTENUATION_DB} dB stopband) is evaluated as a polyphase
 * fractional-delay interpolator, so any pair of rates works. State carries over
 * between calls: feeding a signal in blocks of any size yields the same output as
 * feeding it at once, and after N input samples exactly ceil(N * outputRate / inputRate)
 * output samples have been produced (the first `taps / 2` input samples' worth of
 * output is the filter's start-up transient).
 */
export class Resampler {
  /** Sample rate of the input stream in Hz. */
  readonly inputRate: number;
  /** Sample rate of the output stream in Hz. */
  readonly outputRate: number;
  /** Number of filter taps applied per output sample (0 for pass-through). */
  readonly taps: number;

  private readonly half: number;
  private readonly passThrough: boolean;
  /** Exact-phase mode: one table row per phase p/L with integer step M/L. */
  private readonly rational: boolean;
  private readonly phases: number;
  private readonly stepInt: number;
  /** Numerator of the fractional step (rational mode: out of `phases`; table mode: fraction in [0,1)). */
  private readonly stepFrac: number;
  private readonly table: Float32Array;

  /** Input history plus the newest block; index `pos` is the integer part of the next output time. */
  private buf: Float32Array;
  private bufLen: number;
  private pos: number;
  /** Fractional part of the next output time (phase index in rational mode, fraction in table mode). */
  private frac = 0;
  private out: Float32Array;

  /**
   * @param inputRate rate of the samples passed to {@link process}, in Hz
   * @param outputRate rate of the samples returned, in Hz (default 16000)
   */
  constructor(inputRate: number, outputRate = 16000) {
    if (
      !(inputRate > 0) ||
      !(outputRate > 0) ||
      !Number.isFinite(inputRate) ||
      !Number.isFinite(outputRate)
    ) {
      throw new RangeError(`invalid sample rates ${inputRate} -> ${outputRate}`);
    }
    this.inputRate = inputRate;
    this.outputRate = outputRate;
    this.passThrough = inputRate === outputRate;

    // Transition band sits just below the narrower Nyquist, so nothing above it can alias.
    const nyquist = Math.min(inputRate, outputRate) / 2;
    const stopHz = nyquist;
    const passHz = nyquist * PASSBAND_FRACTION;
    const cutoff = (passHz + stopHz) / 2 / inputRate; // cycles per input sample
    const transition = (2 * Math.PI * (stopHz - passHz)) / inputRate; // radians per input sample
    const order = Math.ceil((ATTENUATION_DB - 7.95) / (2.285 * transition));
    const beta = 0.1102 * (ATTENUATION_DB - 8.7);
    this.half = this.passThrough ? 0 : Math.max(2, Math.ceil(order / 2));
    this.taps = 2 * this.half;

    const step = inputRate / outputRate;
    const ints = Number.isInteger(inputRate) && Number.isInteger(outputRate);
    const g = ints ? gcd(inputRate, outputRate) : 1;
    const l = outputRate / g;
    this.rational = !this.passThrough && ints && l <= MAX_RATIONAL_PHASES;
    if (this.rational) {
      this.phases = l;
      this.stepInt = Math.floor(inputRate / g / l);
      this.stepFrac = (inputRate / g) % l;
    } else {
      this.phases = TABLE_PHASES;
      this.stepInt = Math.floor(step);
      this.stepFrac = step - this.stepInt;
    }

    // Table mode keeps one extra row (fraction 1.0) so interpolation never reads past the end.
    const rows = this.passThrough ? 0 : this.rational ? this.phases : this.phases + 1;
    this.table = new Float32Array(rows * this.taps);
    const i0Beta = besselI0(beta);
    for (let r = 0; r < rows; r++) {
      const phase = r / this.phases;
      let sum = 0;
      const row = new Float64Array(this.taps);
      for (let k = 0; k < this.taps; k++) {
        // Distance (in input samples) from the output instant back to tap k's input sample.
        const t = phase + this.half - 1 - k;
        const x = t / this.half;
        const w = Math.abs(x) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - x * x)) / i0Beta;
        const arg = 2 * cutoff * t;
        const sinc = arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
        row[k] = 2 * cutoff * sinc * w;
        sum += row[k]!;
      }
      // Unity DC gain in every phase, so a constant input comes out constant.
      for (let k = 0; k < this.taps; k++) this.table[r * this.taps + k] = row[k]! / sum;
    }

    // Start with taps-1 zeros of history so output sample k lines up with input time k*step.
    this.buf = new Float32Array(Math.max(this.taps, 1) + 4096);
    this.bufLen = Math.max(this.taps - 1, 0);
    this.pos = this.half - 1;
    this.out = new Float32Array(Math.ceil(4096 / step) + 2);
  }

  /**
   * Resamples the next block of input.
   *
   * @param input the next mono samples at {@link inputRate}
   * @returns the output samples that became available; a view into an internal buffer
   *   that the next call overwrites, so copy it if it must outlive that call
   */
  process(input: Float32Array): Float32Array {
    if (this.passThrough) {
      if (this.out.length < input.length) this.out = new Float32Array(input.length);
      this.out.set(input);
      return this.out.subarray(0, input.length);
    }
    this.append(input);

    const taps = this.taps;
    const last = this.bufLen - this.half; // output allowed while pos < last
    const needed = Math.ceil(((last - this.pos) * this.outputRate) / this.inputRate) + 2;
    if (this.out.length < needed) this.out = new Float32Array(needed);

    const buf = this.buf;
    const table = this.table;
    const out = this.out;
    let pos = this.pos;
    let frac = this.frac;
    let n = 0;
    if (this.rational) {
      const l = this.phases;
      while (pos < last) {
        const start = pos - this.half + 1;
        const row = frac * taps;
        let acc = 0;
        for (let k = 0; k < taps; k++) acc += buf[start + k]! * table[row + k]!;
        out[n++] = acc;
        frac += this.stepFrac;
        pos += this.stepInt;
        if (frac >= l) {
          frac -= l;
          pos += 1;
        }
      }
    } else {
      const p = this.phases;
      while (pos < last) {
        const start = pos - this.half + 1;
        const f = frac * p;
        const r = Math.floor(f);
        const a = f - r;
        const row0 = r * taps;
        const row1 = row0 + taps;
        let acc0 = 0;
        let acc1 = 0;
        for (let k = 0; k < taps; k++) {
          const x = buf[start + k]!;
          acc0 += x * table[row0 + k]!;
          acc1 += x * table[row1 + k]!;
        }
        // Linear interpolation between the two nearest tabulated fractional delays.
        out[n++] = acc0 + a * (acc1 - acc0);
        frac += this.stepFrac;
        pos += this.stepInt;
        if (frac >= 1) {
          frac -= 1;
          pos += 1;
        }
      }
    }

    // Drop history no future output can reach, keeping taps-1 samples before pos+1.
    const drop = Math.min(pos - this.half + 1, this.bufLen);
    if (drop > 0) {
      buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      pos -= drop;
    }
    this.pos = pos;
    this.frac = frac;
    return out.subarray(0, n);
  }

  /** Appends input to the history buffer, growing it only when a block is larger than any before. */
  private append(input: Float32Array): void {
    const need = this.bufLen + input.length;
    if (need > this.buf.length) {
      const grown = new Float32Array(need + 1024);
      grown.set(this.buf.subarray(0, this.bufLen));
      this.buf = grown;
    }
    this.buf.set(input, this.bufLen);
    this.bufLen = need;
  }
}

/**
 * Converts float samples to signed 16-bit PCM: clamps to [-1, 1], scales by 32767 and
 * rounds to nearest, ties away from zero (NaN becomes 0).
 *
 * @param samples float samples, nominally in [-1, 1]
 * @param out optional destination of at least `samples.length` elements
 * @returns `out` (or a new array) holding `samples.length` converted samples
 */
export function toInt16(samples: Float32Array, out?: Int16Array): Int16Array {
  const dest = out ?? new Int16Array(samples.length);
  if (dest.length < samples.length) throw new RangeError("toInt16: output array too short");
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const c = s > 1 ? 1 : s < -1 ? -1 : s;
    // Round half away from zero so the conversion is symmetric: toInt16(-x) === -toInt16(x).
    dest[i] = c < 0 ? -Math.round(-c * 32767) : Math.round(c * 32767);
  }
  return dest;
}

/**
 * Meter value for a block of float samples: RMS level mapped linearly from
 * -60..0 dBFS to 0..1 (clamped).
 *
 * @param samples float samples in [-1, 1]; an empty block reads 0
 */
export function level(samples: Float32Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    sum += s * s;
  }
  const rms = Math.sqrt(sum / samples.length);
  if (!(rms > 0)) return 0;
  const db = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (db + 60) / 60));
}

/** One packaged chunk of audio, ready to post with `pcm` in the transfer list. */
export interface Chunk {
  /** Signed 16-bit little-endian mono PCM; a standalone buffer owned by the receiver. */
  pcm: ArrayBuffer;
  /** {@link level} of the chunk's samples, 0..1. */
  level: number;
}

/** Shared empty result, so the common "no chunk completed yet" case allocates nothing. */
const NO_CHUNKS: readonly Chunk[] = Object.freeze([]);

/**
 * Collects float samples and hands them out as fixed-size int16 PCM chunks
 * (e.g. 1600 samples = 100 ms at 16 kHz), each with its meter level.
 */
export class Chunker {
  /** Samples per full chunk. */
  readonly samplesPerChunk: number;
  private readonly pending: Float32Array;
  private filled = 0;

  /** @param samplesPerChunk samples in each full chunk (a positive integer) */
  constructor(samplesPerChunk: number) {
    if (!Number.isInteger(samplesPerChunk) || samplesPerChunk <= 0) {
      throw new RangeError(`invalid chunk size ${samplesPerChunk}`);
    }
    this.samplesPerChunk = samplesPerChunk;
    this.pending = new Float32Array(samplesPerChunk);
  }

  /** Number of samples waiting for the next chunk. */
  get buffered(): number {
    return this.filled;
  }

  /**
   * Appends samples and returns every chunk they completed, oldest first
   * (usually none; the returned empty array is shared and frozen).
   */
  push(samples: Float32Array): readonly Chunk[] {
    let chunks: Chunk[] | null = null;
    let i = 0;
    while (i < samples.length) {
      const take = Math.min(this.samplesPerChunk - this.filled, samples.length - i);
      this.pending.set(samples.subarray(i, i + take), this.filled);
      this.filled += take;
      i += take;
      if (this.filled === this.samplesPerChunk) {
        (chunks ??= []).push(this.emit());
      }
    }
    return chunks ?? NO_CHUNKS;
  }

  /** Returns the partial chunk collected so far (and clears it), or null when nothing is buffered. */
  flush(): Chunk | null {
    return this.filled === 0 ? null : this.emit();
  }

  /** Packages the buffered samples into a fresh transferable buffer. */
  private emit(): Chunk {
    const samples = this.pending.subarray(0, this.filled);
    const pcm = toInt16(samples);
    const chunk = { pcm: pcm.buffer as ArrayBuffer, level: level(samples) };
    this.filled = 0;
    return chunk;
  }
}
