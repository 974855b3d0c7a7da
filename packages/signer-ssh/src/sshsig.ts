import { createHash } from 'node:crypto';
import { WireReader, wireString, wireUint32 } from './ssh-wire.js';

/**
 * OpenSSH's signature format (`ssh-keygen -Y sign`, PROTOCOL.sshsig): the key signs not the
 * message but a small structure holding the namespace and the message's hash, so a signature
 * made for one purpose (git commits, files) cannot be replayed for another.
 */

const MAGIC = Buffer.from('SSHSIG', 'latin1');
const VERSION = 1;
const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';
/** ssh-keygen wraps the base64 at 70 columns. */
const LINE_LENGTH = 70;
/** The hashes the format allows; ssh-keygen signs with sha512. */
const HASHES = new Set(['sha256', 'sha512']);

/** The fields of a parsed signature. */
export interface SshSignature {
  publicKeyBlob: Buffer;
  namespace: string;
  hashAlgorithm: string;
  /** SSH's signature encoding: `string algorithm, string blob`. */
  signature: Buffer;
}

/** What the key signs for `message` under `namespace`. */
export function signedData(message: Uint8Array, namespace: string, hashAlgorithm = 'sha512'): Buffer {
  const digest = createHash(hashAlgorithm).update(message).digest();
  return Buffer.concat([MAGIC, wireString(namespace), wireString(''), wireString(hashAlgorithm), wireString(digest)]);
}

/** The armored signature file, as ssh-keygen writes it. */
export function armorSignature(fields: SshSignature): string {
  const blob = Buffer.concat([
    MAGIC,
    wireUint32(VERSION),
    wireString(fields.publicKeyBlob),
    wireString(fields.namespace),
    wireString(''),
    wireString(fields.hashAlgorithm),
    wireString(fields.signature),
  ]);
  const base64 = blob.toString('base64');
  const lines: string[] = [];
  for (let start = 0; start < base64.length; start += LINE_LENGTH) lines.push(base64.slice(start, start + LINE_LENGTH));
  return `${BEGIN}\n${lines.join('\n')}\n${END}\n`;
}

/** Reads an armored signature. Throws a plain Error saying what is wrong with it. */
export function parseArmoredSignature(text: string): SshSignature {
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`not an SSH signature (no ${BEGIN} … ${END} block)`);
  const blob = Buffer.from(text.slice(begin + BEGIN.length, end).replace(/\s+/g, ''), 'base64');
  const reader = new WireReader(blob);
  if (!reader.raw(MAGIC.length).equals(MAGIC)) throw new Error('not an SSH signature (bad magic)');
  const version = reader.uint32();
  if (version !== VERSION) throw new Error(`SSH signature version ${version} is not supported`);
  const publicKeyBlob = reader.string();
  const namespace = reader.text();
  reader.string(); // reserved
  const hashAlgorithm = reader.text();
  const signature = reader.string();
  if (!HASHES.has(hashAlgorithm)) throw new Error(`SSH signature hash ${hashAlgorithm} is not allowed (sha256, sha512 are)`);
  return { publicKeyBlob, namespace, hashAlgorithm, signature };
}
