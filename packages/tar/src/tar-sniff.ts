import { BLOCK_SIZE, checksum } from './tar-header.js';

/**
 * True when `head` (the first bytes of a file) starts with a tar header: a ustar or GNU magic
 * or, for old v7 archives that carry no magic, a header whose checksum adds up.
 */
export function looksLikeTarHeader(head: Uint8Array): boolean {
  if (hasUstarMagic(head)) return true;
  return head.length >= BLOCK_SIZE && hasValidChecksum(head);
}

/** `ustar\0` (POSIX) or `ustar ` (GNU) at offset 257. */
function hasUstarMagic(head: Uint8Array): boolean {
  if (head.length < 263) return false;
  const magic = String.fromCharCode(...head.subarray(257, 262));
  return magic === 'ustar' && (head[262] === 0x00 || head[262] === 0x20);
}

function hasValidChecksum(head: Uint8Array): boolean {
  const stored = parseOctal(head.subarray(148, 156));
  if (stored === undefined) return false;
  // An all-zero block sums to 256 (the checksum field as spaces) and stores nothing.
  const unsigned = checksum(head);
  if (unsigned === 8 * 0x20) return false;
  // Some historic tars summed signed bytes; accept either, as GNU tar and Python do.
  let signed = unsigned;
  for (let index = 0; index < BLOCK_SIZE; index++) {
    const byte = head[index] ?? 0;
    if ((index < 148 || index >= 156) && byte >= 0x80) signed -= 256;
  }
  return stored === unsigned || stored === signed;
}

/** Octal digits, optionally surrounded by spaces and NULs; undefined for anything else. */
function parseOctal(field: Uint8Array): number | undefined {
  const text = String.fromCharCode(...field).replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (!/^[0-7]+$/.test(text)) return undefined;
  return Number.parseInt(text, 8);
}
