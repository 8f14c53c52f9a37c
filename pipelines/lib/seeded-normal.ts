/**
 * Seeded standard normal numbers for the random test matrix of a randomized SVD:
 * xoshiro128** (32-bit state words, period 2^128 − 1) seeded through splitmix32, and
 * the Box–Muller transform. The same seed gives the same numbers on every machine
 * (integer arithmetic with `Math.imul`, then IEEE doubles).
 */

/** splitmix32: spreads a seed into well-mixed 32-bit words. */
function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
}

/** A generator of standard normal numbers (mean 0, variance 1) from an integer seed. */
export function seededNormal(seed: number): () => number {
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  const init = splitmix32(seed);
  const s = [init(), init(), init(), init()];
  // An all-zero state would only ever give zeros.
  if (!s.some((w) => w !== 0)) s[0] = 1;
  const uint32 = (): number => {
    const [s0 = 0, s1 = 0, s2 = 0, s3 = 0] = s;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    let n2 = (s2 ^ s0) >>> 0;
    let n3 = (s3 ^ s1) >>> 0;
    const n1 = (s1 ^ n2) >>> 0;
    const n0 = (s0 ^ n3) >>> 0;
    n2 = (n2 ^ t) >>> 0;
    n3 = rotl(n3, 11);
    s[0] = n0;
    s[1] = n1;
    s[2] = n2;
    s[3] = n3;
    return result;
  };
  // A uniform in (0, 1): never 0, so its logarithm is finite.
  const uniform = (): number => (uint32() + 0.5) / 4294967296;
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(uniform()));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
