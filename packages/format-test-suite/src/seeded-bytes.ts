import { createCipheriv, createHash } from 'node:crypto';

/**
 * Deterministic pseudo-random bytes: the AES-128-CTR keystream under a key derived from `seed`.
 * Fast enough for megabytes, reproducible without committed fixtures, and incompressible, so a
 * compressing format really moves that many bytes.
 */
export function seededBytes(length: number, seed: number): Buffer {
  const key = createHash('sha256').update(`bentoport-format-suite:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

/** Compressible text (a few words in a seeded order), like source files and yaml. */
export function seededText(length: number, seed: number): Buffer {
  const words = ['bento', 'model', 'service', 'runner', 'yaml', 'python', 'import', 'tensor', '\n', '    '];
  const noise = seededBytes(Math.ceil(length / 3), seed);
  const parts: string[] = [];
  let size = 0;
  for (let index = 0; size < length; index++) {
    const word = `${words[(noise[index % noise.length] ?? 0) % words.length]} `;
    parts.push(word);
    size += word.length;
  }
  return Buffer.from(parts.join('').slice(0, length));
}
