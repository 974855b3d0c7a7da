/** A seeded pseudo-random source. Tests must be reproducible, so nothing here uses Math.random. */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (both inclusive). */
  integer(min: number, max: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** Standard normal (mean 0, deviation 1), by the Box–Muller transform. */
  gaussian(): number;
}

/**
 * mulberry32: a 32-bit state generator, fast and good enough for test data.
 * @example
 * const random = seededRandom(1);
 * random.integer(1, 6);
 */
export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  let spare: number | undefined;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    integer: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    gaussian() {
      if (spare !== undefined) {
        const value = spare;
        spare = undefined;
        return value;
      }
      // 1 - next() is in (0, 1], so the logarithm is finite.
      const radius = Math.sqrt(-2 * Math.log(1 - next()));
      const angle = 2 * Math.PI * next();
      spare = radius * Math.sin(angle);
      return radius * Math.cos(angle);
    },
  };
}

/** Mix a seed with a label, so each generated thing gets its own independent stream. */
export function deriveSeed(seed: number, label: string): number {
  let hash = (seed ^ 0x811c9dc5) >>> 0;
  for (let index = 0; index < label.length; index++) {
    hash = Math.imul(hash ^ label.charCodeAt(index), 0x01000193) >>> 0;
  }
  return hash;
}

const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** A BentoML-shaped version: 16 characters of lower-case RFC 4648 base32. */
export function seededVersion(random: SeededRandom): string {
  let version = '';
  for (let index = 0; index < 16; index++) version += random.pick([...BASE32_ALPHABET]);
  return version;
}
