import { describeError } from '../assertions.js';
import { decodeToRecords, encodeToBytes, expectSameEntries } from '../archive-io.js';
import type { CheckContext } from '../check-context.js';
import { entriesOf, fullTree, recordsOf } from '../sample-tree.js';
import { seededBytes, seededText } from '../seeded-bytes.js';
import { assert } from 'vitest';

/** What core hands `sniff`: the first 512 bytes of the file, fewer if it is shorter. */
const HEAD_BYTES = 512;

function sniffed(context: CheckContext, head: Uint8Array, what: string): string | undefined {
  try {
    return context.format.sniff(head);
  } catch (error) {
    assert(false, `sniff(${what}) threw ${describeError(error)}; it must answer undefined for bytes it does not know`);
  }
}

/**
 * Its own output is recognised: `sniff` of the first 512 bytes names one of `formats`, and
 * decoding with that token gives the entries back (a token may share its bytes with another, as
 * `bento` and `xz` do). Also for the archive of no entries, whose head may be shorter than 512 bytes.
 */
export async function checkSniffOwnOutput(context: CheckContext): Promise<void> {
  const samples = [
    { sample: fullTree(context.format.capabilities), what: 'the sample tree', archive: context.archive('full') },
    { sample: [], what: 'the archive of no entries', archive: encodeToBytes(context, entriesOf([])) },
  ];
  for (const { sample, what, archive } of samples) {
    const bytes = await archive;
    const token = sniffed(context, bytes.subarray(0, HEAD_BYTES), `${what} (${context.token})`);
    assert(
      token !== undefined && context.format.formats.includes(token),
      `sniff of ${what} encoded as ${context.token} answered ${String(token)}, not one of ${context.format.formats.join(', ')}`,
    );
    const decoded = await decodeToRecords(context, bytes, { token });
    expectSameEntries(decoded, recordsOf(sample), `${what} encoded as ${context.token}, decoded as the sniffed ${token}`);
  }
}

/** Nothing that is not an archive is claimed: empty, short, zero, random and text heads → undefined. */
export async function checkSniffRejectsNoise(context: CheckContext): Promise<void> {
  const heads: { what: string; head: Uint8Array }[] = [
    { what: 'an empty head', head: new Uint8Array(0) },
    { what: '512 zero bytes', head: new Uint8Array(HEAD_BYTES) },
    { what: 'a yaml document', head: Buffer.from('service: "service:Svc"\nname: svc\nversion: v1\nlabels: {}\n'.repeat(10)) },
    { what: 'source text', head: seededText(HEAD_BYTES, 7) },
    { what: 'a JSON document', head: Buffer.from(JSON.stringify({ name: 'svc', models: ['a:v1'], nested: { deep: [1, 2, 3] } }).repeat(8)) },
  ];
  for (let seed = 1; seed <= 16; seed++) heads.push({ what: `512 random bytes (seed ${seed})`, head: seededBytes(HEAD_BYTES, 100 + seed) });
  for (let length = 1; length <= 8; length++) heads.push({ what: `${length} random bytes`, head: seededBytes(length, 200 + length) });
  for (const { what, head } of heads) {
    const token = sniffed(context, head, what);
    assert(token === undefined, `sniff(${what}) answered ${token}; it must be undefined for bytes that are not an archive`);
  }
}

interface ForeignMagic {
  name: string;
  offset: number;
  magic: readonly number[];
}

const FOREIGN_MAGICS: readonly ForeignMagic[] = [
  { name: 'gzip', offset: 0, magic: [0x1f, 0x8b, 0x08] },
  { name: 'xz', offset: 0, magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: 'bzip2', offset: 0, magic: [0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59] },
  { name: 'zip', offset: 0, magic: [0x50, 0x4b, 0x03, 0x04] },
  { name: 'empty zip', offset: 0, magic: [0x50, 0x4b, 0x05, 0x06] },
  { name: 'zstd', offset: 0, magic: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: 'lz4', offset: 0, magic: [0x04, 0x22, 0x4d, 0x18] },
  { name: '7z', offset: 0, magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { name: 'rar', offset: 0, magic: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00] },
  { name: 'PNG', offset: 0, magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { name: 'PDF', offset: 0, magic: [...Buffer.from('%PDF-1.7\n')] },
  { name: 'ELF', offset: 0, magic: [0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01] },
  { name: 'ustar tar', offset: 257, magic: [...Buffer.from('ustar')] },
];

/** A 512-byte head with the magic in place: a real ustar header for tar, random bytes around the others. */
function foreignHead(foreign: ForeignMagic, seed: number): Buffer {
  if (foreign.name === 'ustar tar') return ustarHeader();
  const head = seededBytes(HEAD_BYTES, seed);
  Buffer.from(foreign.magic).copy(head, foreign.offset);
  return head;
}

/** A POSIX ustar header of one small file, checksum included. */
function ustarHeader(): Buffer {
  const header = Buffer.alloc(HEAD_BYTES);
  const field = (text: string, offset: number): void => void header.write(text, offset, 'latin1');
  field('hello.txt', 0);
  field('0000644\0', 100);
  field('0000000\0', 108);
  field('0000000\0', 116);
  field('00000000005\0', 124);
  field('14575147640\0', 136);
  field('        ', 148);
  field('0', 156);
  field('ustar\u000000', 257);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return header;
}

function startsWith(bytes: Uint8Array, foreign: ForeignMagic): boolean {
  return foreign.magic.every((byte, index) => bytes[foreign.offset + index] === byte);
}

/**
 * Other formats' magic is not claimed: gzip, xz, bzip2, zip, zstd, lz4, 7z, rar, ustar tar, PNG,
 * PDF and ELF heads → undefined, except a magic the format's own output starts with (a tar+gzip
 * format does read gzip).
 */
export async function checkSniffRejectsForeignMagic(context: CheckContext): Promise<void> {
  const own: Buffer[] = [];
  for (const token of context.format.formats) {
    own.push(await context.archive('plain', token), await encodeToBytes({ ...context, token }, entriesOf([])));
  }
  let seed = 300;
  for (const foreign of FOREIGN_MAGICS) {
    if (own.some((bytes) => startsWith(bytes, foreign))) continue;
    const token = sniffed(context, foreignHead(foreign, ++seed), `a ${foreign.name} head`);
    assert(token === undefined, `sniff of a ${foreign.name} head answered ${token}; this format's own output never starts that way`);
  }
}
