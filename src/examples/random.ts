/**
 * The example data's randomness: a small, fast, seeded generator (mulberry32) whose
 * state is derived by hashing (seed, stream, index). Every generated row draws from its
 * own `rowRandom(seed, stream, index)`, so a row depends only on those three numbers:
 * tables can be generated in any order, in batches, and again later with the same
 * result, without holding earlier rows in memory.
 */

/** A 32-bit mix (murmur3's finaliser) of `value` into `hash`. */
function mix(hash: number, value: number): number {
  let h = Math.imul(hash ^ value, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A stream name as a number (FNV-1a), so streams of one seed never share states. */
function streamCode(stream: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Seeded pseudo-random numbers with the draws the generator needs. */
export class Random {
  private state: number;

  constructor(state: number) {
    this.state = state >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of `items` (not empty). */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** One element of `items`, chosen with the matching `weights`. */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < items.length; i++) {
      r -= weights[i] ?? 0;
      if (r < 0) return items[i] as T;
    }
    return items[items.length - 1] as T;
  }

  /** A normal draw (Box–Muller). */
  normal(mean: number, sd: number): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A Poisson draw for small means (Knuth). */
  poisson(mean: number): number {
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }
}

/** The generator for row `index` of `stream` under `seed`. */
export function rowRandom(seed: number, stream: string, index: number): Random {
  const high = Math.floor(index / 4294967296);
  return new Random(
    mix(mix(mix(mix(0x9e3779b9, seed >>> 0), streamCode(stream)), index >>> 0), high),
  );
}

/** Draws an id in 1..count, skewed towards low ids (a few very active customers). */
export function skewedId(random: Random, count: number, power: number): number {
  return 1 + Math.min(count - 1, Math.floor(count * random.next() ** power));
}
