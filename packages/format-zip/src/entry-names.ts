import { FLAG_UTF8 } from './zip-records.js';

/**
 * Entry names as zip stores them. Without general purpose flag bit 11 a name is, by the APPNOTE,
 * IBM code page 437; with it, UTF-8. We write plain ASCII names without the flag and everything
 * else as UTF-8 with the flag, exactly like Python's zipfile.
 */

/** Code page 437, bytes 0x80..0xFF. */
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' +
  'αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function encodeEntryName(name: string): { bytes: Buffer; utf8Flag: number } {
  const bytes = Buffer.from(name, 'utf8');
  const ascii = bytes.every((byte) => byte < 0x80);
  return { bytes, utf8Flag: ascii ? 0 : FLAG_UTF8 };
}

/**
 * Decodes a stored name. Without the UTF-8 flag, names that are valid UTF-8 are still read as
 * UTF-8: Info-ZIP's `zip` on Unix stores the file system's (UTF-8) bytes without setting the flag,
 * and a real CP437 name is very rarely also valid UTF-8.
 */
export function decodeEntryName(bytes: Buffer, flags: number): string {
  if ((flags & FLAG_UTF8) !== 0) return bytes.toString('utf8');
  if (bytes.every((byte) => byte < 0x80)) return bytes.toString('latin1');
  try {
    return strictUtf8.decode(bytes);
  } catch {
    let name = '';
    for (const byte of bytes) name += byte < 0x80 ? String.fromCharCode(byte) : CP437_HIGH[byte - 0x80];
    return name;
  }
}
