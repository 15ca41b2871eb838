// lathe's random source for the random ops (RandomUniform/Normal[Like], Bernoulli, Multinomial)
// and training-mode Dropout. ONNX leaves the generator to the runtime, so no framework's numbers
// can be matched; what matters for an oracle is shape, dtype, range and reproducibility. The
// stream is mulberry32, seeded from the op's `seed` attribute, or from a fixed seed when it has
// none, so that two runs of one model agree.
export const DEFAULT_SEED = 0x6c617468; // 'lath'

/** Uniform numbers in [0, 1) from a seed (a float attribute; its f32 bits seed the stream). */
export function uniformStream(seed?: number): () => number {
  let s = seed === undefined ? DEFAULT_SEED : new Uint32Array(new Float32Array([seed]).buffer)[0]! ^ DEFAULT_SEED;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal numbers (Box–Muller over a uniform stream). */
export function normalStream(seed?: number): () => number {
  const u = uniformStream(seed);
  return () => {
    const a = 1 - u(); // in (0, 1], so the log is finite
    return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u());
  };
}
