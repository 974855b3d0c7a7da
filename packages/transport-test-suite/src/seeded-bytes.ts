/**
 * Deterministic pseudo-random bytes (mulberry32), so a failing comparison can be reproduced
 * without committing binary fixtures.
 */
export function seededBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let state = seed >>> 0;
  let offset = 0;
  while (offset < length) {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed);
    const word = (mixed ^ (mixed >>> 14)) >>> 0;
    for (let shift = 0; shift < 32 && offset < length; shift += 8) {
      bytes[offset++] = (word >>> shift) & 0xff;
    }
  }
  return bytes;
}
