import { describe, expect, it } from "vitest";
import { Chunker, Resampler, level, toInt16 } from "../../src/audio/resampler";

const OUT_RATE = 16000;

/** A sine of `freq` Hz sampled at `rate`, `seconds` long. */
function tone(rate: number, freq: number, seconds: number, amplitude = 0.5): Float32Array {
  const n = Math.round(rate * seconds);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amplitude * Math.sin((2 * Math.PI * freq * i) / rate);
  return x;
}

/** Deterministic pseudo-random numbers in [0, 1), so failures reproduce. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Feeds `signal` through `r` in blocks of the given sizes (repeating the last) and concatenates the output. */
function run(r: Resampler, signal: Float32Array, sizes: (i: number) => number): Float32Array {
  const parts: Float32Array[] = [];
  let total = 0;
  for (let i = 0, start = 0; start < signal.length; i++) {
    const end = Math.min(signal.length, start + sizes(i));
    const out = r.process(signal.subarray(start, end));
    parts.push(out.slice()); // process() returns a reused view, so copy it
    total += out.length;
    start = end;
  }
  const all = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

/** Resamples `signal` from `rate` in 128-frame blocks (a worklet render quantum) and drops the start-up transient. */
function resampleSteady(rate: number, signal: Float32Array): Float32Array {
  const r = new Resampler(rate, OUT_RATE);
  const out = run(r, signal, () => 128);
  const skip = Math.ceil((r.taps * OUT_RATE) / rate) + 16;
  return out.subarray(skip);
}

function rms(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / x.length);
}

const db = (ratio: number): number => 20 * Math.log10(ratio);

/** Frequency from upward zero crossings (linearly interpolated) across the whole span. */
function zeroCrossingFrequency(x: Float32Array, rate: number): number {
  let first = -1;
  let last = -1;
  let count = 0;
  for (let i = 1; i < x.length; i++) {
    const a = x[i - 1]!;
    const b = x[i]!;
    if (a < 0 && b >= 0) {
      const t = i - 1 + a / (a - b);
      if (first < 0) first = t;
      last = t;
      count++;
    }
  }
  return ((count - 1) * rate) / (last - first);
}

/** Amplitude of the component at `freq` by correlating with sine and cosine (a single DFT bin). */
function toneAmplitude(x: Float32Array, freq: number, rate: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < x.length; i++) {
    const w = (2 * Math.PI * freq * i) / rate;
    re += x[i]! * Math.cos(w);
    im += x[i]! * Math.sin(w);
  }
  return (2 * Math.hypot(re, im)) / x.length;
}

// 44099 does not reduce to a small fraction of 16000, exercising the interpolated-table path.
const RATES = [44100, 48000, 22050, 96000, 44099];

describe("Resampler", () => {
  for (const rate of RATES) {
    describe(`${rate} Hz -> 16 kHz`, () => {
      it("keeps a 1 kHz tone at 1000 Hz and amplitude 0.5", () => {
        const out = resampleSteady(rate, tone(rate, 1000, 1.5));
        const span = out.subarray(0, Math.floor(out.length / 16) * 16); // whole periods only
        expect(zeroCrossingFrequency(span, OUT_RATE)).toBeCloseTo(1000, 0); // within 0.5 Hz
        expect(Math.abs(zeroCrossingFrequency(span, OUT_RATE) - 1000)).toBeLessThan(2);
        expect(Math.abs(db(toneAmplitude(span, 1000, OUT_RATE) / 0.5))).toBeLessThan(0.5);
        expect(Math.abs(db((rms(span) * Math.SQRT2) / 0.5))).toBeLessThan(0.5);
      });

      it("passes a 6.5 kHz tone within 1 dB", () => {
        const out = resampleSteady(rate, tone(rate, 6500, 0.5));
        expect(Math.abs(db((rms(out) * Math.SQRT2) / 0.5))).toBeLessThan(1);
      });

      for (const freq of [9000, 10000, 12000, 15000, 20000].filter((f) => f < rate / 2)) {
        it(`removes a ${freq / 1000} kHz tone (>= 50 dB down, not aliased)`, () => {
          const input = tone(rate, freq, 0.5);
          const out = resampleSteady(rate, input);
          expect(out.length).toBeGreaterThan(7000);
          expect(db(rms(out) / (0.5 / Math.SQRT2))).toBeLessThan(-50);
        });
      }
    });
  }

  it("upsamples 8 kHz -> 16 kHz with the tone intact and nothing added above 4 kHz", () => {
    const r = new Resampler(8000, OUT_RATE);
    const out = run(r, tone(8000, 1000, 1), () => 128).subarray(Math.ceil(r.taps * 2) + 16);
    expect(Math.abs(zeroCrossingFrequency(out, OUT_RATE) - 1000)).toBeLessThan(2);
    expect(Math.abs(db(toneAmplitude(out, 1000, OUT_RATE) / 0.5))).toBeLessThan(0.5);
    // The spectral image of 1 kHz at 7 kHz must be suppressed.
    expect(db(toneAmplitude(out, 7000, OUT_RATE) / 0.5)).toBeLessThan(-50);
  });

  it("passes equal rates through unchanged", () => {
    const r = new Resampler(16000);
    const x = tone(16000, 440, 0.1);
    expect(r.taps).toBe(0);
    expect(Array.from(run(r, x, () => 100))).toEqual(Array.from(x));
  });

  it("rejects invalid rates", () => {
    expect(() => new Resampler(0)).toThrow(RangeError);
    expect(() => new Resampler(Number.NaN)).toThrow(RangeError);
  });

  for (const rate of [44100, 48000, 44099]) {
    it(`gives the same output for any block sizes at ${rate} Hz`, () => {
      const random = lcg(rate);
      const noise = new Float32Array(rate); // 1 s of broadband input exercises every phase
      for (let i = 0; i < noise.length; i++) noise[i] = random() * 2 - 1;

      const whole = run(new Resampler(rate), noise, () => noise.length);
      const quanta = run(new Resampler(rate), noise, () => 128);
      const ragged = run(new Resampler(rate), noise, () => Math.floor(random() * 700)); // includes empty blocks

      const expected = (noise.length * OUT_RATE) / rate;
      for (const out of [whole, quanta, ragged]) {
        expect(Math.abs(out.length - expected)).toBeLessThanOrEqual(1);
      }
      expect(quanta.length).toBe(whole.length);
      expect(ragged.length).toBe(whole.length);
      let maxDiff = 0;
      for (let i = 0; i < whole.length; i++) {
        maxDiff = Math.max(
          maxDiff,
          Math.abs(whole[i]! - quanta[i]!),
          Math.abs(whole[i]! - ragged[i]!),
        );
      }
      expect(maxDiff).toBeLessThan(1e-5);
    });
  }

  it("keeps the output length within one sample of the ideal over time", () => {
    const r = new Resampler(44100);
    let inTotal = 0;
    let outTotal = 0;
    const block = new Float32Array(128);
    for (let i = 0; i < 2000; i++) {
      outTotal += r.process(block).length;
      inTotal += block.length;
      expect(Math.abs(outTotal - (inTotal * OUT_RATE) / 44100)).toBeLessThanOrEqual(1);
    }
  });
});

describe("toInt16", () => {
  it("clamps to [-1, 1] and rounds to nearest", () => {
    const x = Float32Array.from([
      0,
      1,
      -1,
      2,
      -2,
      0.5,
      -0.5,
      1.4 / 32767,
      1.6 / 32767,
      -1.6 / 32767,
      Number.NaN,
    ]);
    expect(Array.from(toInt16(x))).toEqual([
      0, 32767, -32767, 32767, -32767, 16384, -16384, 1, 2, -2, 0,
    ]);
  });

  it("writes into a provided array", () => {
    const out = new Int16Array(4);
    expect(toInt16(Float32Array.from([0.25, -0.25]), out)).toBe(out);
    expect(Array.from(out)).toEqual([8192, -8192, 0, 0]);
  });
});

describe("Chunker", () => {
  it("hands out exactly 1600-sample chunks in order and flushes the rest", () => {
    const c = new Chunker(1600);
    const ramp = new Float32Array(3500);
    for (let i = 0; i < ramp.length; i++) ramp[i] = (i % 1000) / 1000;

    expect(c.push(ramp.subarray(0, 1000))).toHaveLength(0);
    const first = c.push(ramp.subarray(1000, 2000));
    expect(first).toHaveLength(1);
    const second = c.push(ramp.subarray(2000, 3500));
    expect(second).toHaveLength(1);
    expect(c.buffered).toBe(300);

    const chunks = [...first, ...second];
    for (const chunk of chunks) expect(chunk.pcm.byteLength).toBe(3200);
    const rest = c.flush();
    expect(rest?.pcm.byteLength).toBe(600);
    expect(c.flush()).toBeNull();

    const joined = [...chunks, rest!].flatMap((chunk) => Array.from(new Int16Array(chunk.pcm)));
    expect(joined).toEqual(Array.from(toInt16(ramp)));
  });

  it("splits one large push into several chunks with standalone buffers", () => {
    const c = new Chunker(1600);
    const chunks = c.push(new Float32Array(1600 * 3 + 5).fill(0.5));
    expect(chunks).toHaveLength(3);
    expect(new Set(chunks.map((chunk) => chunk.pcm)).size).toBe(3);
    for (const chunk of chunks) expect(chunk.pcm.byteLength).toBe(3200);
    expect(c.flush()?.pcm.byteLength).toBe(10);
  });

  it("reports each chunk's level", () => {
    const c = new Chunker(1600);
    const [silent] = c.push(new Float32Array(1600));
    const [loud] = c.push(tone(16000, 1000, 0.1, 1));
    expect(silent?.level).toBe(0);
    expect(loud?.level).toBeCloseTo(level(tone(16000, 1000, 0.1, 1)), 6);
  });
});

describe("level", () => {
  it("maps RMS from -60..0 dBFS to 0..1", () => {
    expect(level(new Float32Array(0))).toBe(0);
    expect(level(new Float32Array(100))).toBe(0);
    expect(level(new Float32Array(100).fill(1))).toBeCloseTo(1, 6);
    expect(level(new Float32Array(100).fill(0.001))).toBeCloseTo(0, 6); // -60 dBFS
    expect(level(new Float32Array(100).fill(0.0001))).toBe(0); // below the floor
    expect(level(new Float32Array(100).fill(-0.1))).toBeCloseTo(2 / 3, 6); // -20 dBFS
    expect(level(new Float32Array(100).fill(5))).toBe(1);
  });
});
