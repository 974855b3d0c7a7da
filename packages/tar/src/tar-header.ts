/**
 * The ustar header block and the PAX extended header that carries what ustar cannot hold.
 *
 * Written by hand rather than with tar-stream's `pack`, because pack stores sizes of 8 GiB and
 * more in base-256 and clamps mtimes to int32, which Python's stream mode and some tars misread.
 * The layout follows CPython's `tarfile` in PAX_FORMAT, the writer BentoML uses
 * (`shutil.make_archive`), so our archives look like theirs to every reader.
 */

/** Every tar structure is made of 512-byte blocks. */
export const BLOCK_SIZE = 512;

/** tar writes in records of 20 blocks; Python pads the archive's end to a whole record. */
export const RECORD_SIZE = 20 * BLOCK_SIZE;

/** The name Python gives every PAX extended header (`tarfile`'s `././@PaxHeader`). */
const PAX_HEADER_NAME = '././@PaxHeader';

/** Largest value an 11-digit octal field holds: 8^11 - 1 (size: just under 8 GiB). */
const MAX_OCTAL_11 = 8 ** 11 - 1;

export const TYPEFLAG = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  directory: '5',
  paxExtended: 'x',
} as const;

export type Typeflag = (typeof TYPEFLAG)[keyof typeof TYPEFLAG];

/** What one archive member's header needs, with the name already as it is archived (`./a/`). */
export interface TarHeaderFields {
  name: string;
  typeflag: Typeflag;
  /** Permission bits; masked to 0o7777. */
  mode: number;
  /** Bytes of body that follow the header (0 except for files). */
  size: number;
  /** Seconds since the epoch, possibly fractional or negative. */
  mtime: number;
  linkname?: string;
}

/**
 * The header blocks for one member: a PAX extended header first when a value does not fit
 * ustar, then the ustar header. Owner fields are fixed (0, empty names) so that archives are
 * reproducible and do not leak the exporting user.
 */
export function encodeMemberHeader(fields: TarHeaderFields): Buffer {
  const pax = paxRecordsFor(fields);
  const ustar = encodeUstarHeader({
    name: pax.path === undefined ? fields.name : asciiPlaceholder(fields.name),
    typeflag: fields.typeflag,
    mode: fields.mode & 0o7777,
    size: pax.size === undefined ? fields.size : 0,
    mtime: pax.mtime === undefined ? fields.mtime : ustarFallbackMtime(fields.mtime),
    linkname: pax.linkpath === undefined ? (fields.linkname ?? '') : asciiPlaceholder(fields.linkname ?? ''),
  });
  if (Object.keys(pax).length === 0) return ustar;
  const records = encodePaxRecords(pax);
  const paxHeader = encodeUstarHeader({
    name: PAX_HEADER_NAME,
    typeflag: TYPEFLAG.paxExtended,
    mode: 0,
    size: records.length,
    mtime: 0,
    linkname: '',
  });
  return Buffer.concat([paxHeader, records, Buffer.alloc(paddingFor(records.length)), ustar]);
}

/** Zero bytes needed after `size` bytes of data to reach the next block boundary. */
export function paddingFor(size: number): number {
  const remainder = size % BLOCK_SIZE;
  return remainder === 0 ? 0 : BLOCK_SIZE - remainder;
}

interface PaxValues {
  path?: string;
  linkpath?: string;
  size?: string;
  mtime?: string;
}

/**
 * Which values go into a PAX header, decided as Python's `tarfile` does: names that are not
 * ASCII or longer than the 100-byte field (no ustar prefix split: PAX is simpler and every
 * reader of PAX handles it), numbers outside the 11-digit octal range, fractional mtimes.
 */
function paxRecordsFor(fields: TarHeaderFields): PaxValues {
  const values: PaxValues = {};
  if (!fitsUstarName(fields.name)) values.path = fields.name;
  if (fields.linkname !== undefined && !fitsUstarName(fields.linkname)) values.linkpath = fields.linkname;
  if (fields.size > MAX_OCTAL_11) values.size = String(fields.size);
  if (!Number.isInteger(fields.mtime) || fields.mtime < 0 || fields.mtime > MAX_OCTAL_11) {
    values.mtime = formatDecimal(fields.mtime);
  }
  return values;
}

function fitsUstarName(name: string): boolean {
  // Printable ASCII only: anything else needs PAX's UTF-8 to survive every reader.
  return name.length <= 100 && /^[\x20-\x7e]*$/.test(name);
}

/** What a reader that ignores PAX sees instead of a long or non-ASCII name (Python: `replace`). */
function asciiPlaceholder(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
}

/** Python writes the rounded mtime when it fits, else 0, beside the exact PAX value. */
function ustarFallbackMtime(mtime: number): number {
  const rounded = Math.round(mtime);
  return rounded >= 0 && rounded <= MAX_OCTAL_11 ? rounded : 0;
}

/**
 * A number as PAX wants it: plain decimal, never exponent notation, as short as round-trips
 * (`String` gives the shortest round-trip form, like Python's `repr`, but switches to `1e-7` or
 * `1e+21` at the extremes).
 */
export function formatDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`mtime must be a finite number, got ${value}`);
  const text = String(value);
  if (!text.includes('e')) return text;
  if (Math.abs(value) >= 1) return BigInt(value).toString();
  return value.toFixed(20).replace(/0+$/, '');
}

/** PAX records `"<length> <key>=<value>\n"`, where length counts the whole record, itself included. */
export function encodePaxRecords(values: PaxValues): Buffer {
  const records: Buffer[] = [];
  for (const [key, value] of Object.entries(values) as [string, string][]) {
    const body = ` ${key}=${value}\n`;
    const bodyLength = Buffer.byteLength(body);
    let length = bodyLength;
    // The length prefix counts its own digits; settle it the way Python does.
    while (bodyLength + String(length).length !== length) length = bodyLength + String(length).length;
    records.push(Buffer.from(`${length}${body}`));
  }
  return Buffer.concat(records);
}

interface UstarFields {
  name: string;
  typeflag: Typeflag;
  mode: number;
  size: number;
  mtime: number;
  linkname: string;
}

/**
 * The fields every header shares, written once: uid and gid 0, the ustar magic, devmajor and
 * devminor as Python writes them, the checksum field as spaces (how the checksum is computed).
 * uname and gname (265, 297) stay empty. Each header starts as a copy of it.
 */
const USTAR_TEMPLATE = (() => {
  const block = Buffer.alloc(BLOCK_SIZE);
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  block.write('        ', 148, 8, 'ascii');
  block.write('ustar\u000000', 257, 8, 'ascii');
  writeOctal(block, 329, 8, 0);
  writeOctal(block, 337, 8, 0);
  return block;
})();

/** One 512-byte ustar header (POSIX magic `ustar\0` + version `00`), fields as Python writes them. */
function encodeUstarHeader(fields: UstarFields): Buffer {
  const block = Buffer.allocUnsafe(BLOCK_SIZE);
  USTAR_TEMPLATE.copy(block);
  block.write(fields.name, 0, 100, 'utf8');
  writeOctal(block, 100, 8, fields.mode);
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, fields.mtime);
  block.write(fields.typeflag, 156, 1, 'ascii');
  block.write(fields.linkname, 157, 100, 'utf8');
  block.write(`${checksum(block).toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return block;
}

/** Zero-padded octal in `width - 1` digits and a NUL terminator (Python's `itn`). */
function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width, 'ascii');
}

/** Unsigned sum of the header bytes, the checksum field counted as spaces. */
export function checksum(block: Uint8Array): number {
  let sum = 8 * 0x20;
  for (let index = 0; index < 148; index++) sum += block[index] as number;
  for (let index = 156; index < BLOCK_SIZE; index++) sum += block[index] as number;
  return sum;
}
