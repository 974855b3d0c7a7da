import { randomBytes } from 'node:crypto';
import { BentoportError, type Tag } from '@bentoport/spec';

export type { Tag } from '@bentoport/spec';

const TAG_PATTERN = /^[a-z0-9]([-._a-z0-9]*[a-z0-9])?$/;
const MAX_LENGTH = 63;

/** BentoML's error texts, in BentoML's order. */
const LENGTH_ERROR = "a tag's name or version must be at most 63 characters in length";
const CHARACTER_ERROR =
  "a tag's name or version must consist of lowercase alphanumeric characters, '_', '-', or '.', and must start and end with an alphanumeric character";

/** The reasons a (lower-cased) name or version is invalid, empty when it is valid. */
function tagPartErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > MAX_LENGTH) errors.push(LENGTH_ERROR);
  if (!TAG_PATTERN.test(value)) errors.push(CHARACTER_ERROR);
  return errors;
}

/** True when `value` is a valid name or version once lower-cased. */
export function isValidTagPart(value: string): boolean {
  return tagPartErrors(value.toLowerCase()).length === 0;
}

function validatedPart(value: string, onWarning?: (message: string) => void): string {
  const lower = value.toLowerCase();
  if (lower !== value) onWarning?.(`[bentoml] Converting '${value}' to lowercase: '${lower}'.`);
  const errors = tagPartErrors(lower);
  if (errors.length > 0) {
    throw new BentoportError('ERR_INVALID_TAG', `${lower} is not a valid BentoML tag: ${errors.join(', and ')}`);
  }
  return lower;
}

/**
 * Build a tag from a name and an optional version, as BentoML's `Tag(name, version)`:
 * both are lower-cased (with a warning) and validated.
 * @throws {BentoportError} ERR_INVALID_TAG with BentoML's message.
 */
export function makeTag(name: string, version?: string | null, onWarning?: (message: string) => void): Tag {
  const validName = validatedPart(name, onWarning);
  const validVersion = version == null ? undefined : validatedPart(version, onWarning);
  return Object.freeze({ name: validName, version: validVersion });
}

/**
 * Parse `name` or `name:version` exactly as BentoML's `Tag.from_str`: split at the first `:`,
 * so `a:b:c` has version `b:c` and is invalid.
 * @throws {BentoportError} ERR_INVALID_TAG: `foo: contains trailing ':'. …` for `foo:`,
 * `Invalid Tag a:b:c` for a bad name:version, the raw validation message for a bad bare name.
 */
export function parseTag(text: string, onWarning?: (message: string) => void): Tag {
  const colon = text.indexOf(':');
  if (colon === -1) return makeTag(text, undefined, onWarning);
  const name = text.slice(0, colon);
  const version = text.slice(colon + 1);
  if (version === '') {
    throw new BentoportError(
      'ERR_INVALID_TAG',
      `${text} contains trailing ':'. Maybe you meant to use \`${text}:latest\`?`,
    );
  }
  try {
    return makeTag(name, version, onWarning);
  } catch (error) {
    throw new BentoportError('ERR_INVALID_TAG', `Invalid Tag ${text}`, { cause: error });
  }
}

/** `name` or `name:version`. */
export function formatTag(tag: Tag): string {
  return tag.version === undefined ? tag.name : `${tag.name}:${tag.version}`;
}

/** BentoML's tag order: by name, then a missing version first, then versions as plain strings. */
export function compareTags(a: Tag, b: Tag): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.version === b.version) return 0;
  if (a.version === undefined) return -1;
  if (b.version === undefined) return 1;
  return a.version < b.version ? -1 : 1;
}

const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lower-case, no padding. */
function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** 100-ns intervals between 1582-10-15 (the UUID epoch) and 1970-01-01. */
const UUID_EPOCH_OFFSET = 122_192_928_000_000_000n;
let lastTimestamp = 0n;
const clockSequence = randomBytes(2).readUInt16BE(0) & 0x3fff;
const nodePrefix = randomBytes(2);

/**
 * A new 16-character version the way BentoML makes one: the bytes of a UUID1 at 0–6 and 8–12
 * (time_low, time_mid, clock_seq, first two node bytes), base32-encoded, lower-case. The node is
 * random (as Python falls back to when it finds no MAC), so nothing identifies the host.
 */
export function newVersion(): string {
  let timestamp = BigInt(Date.now()) * 10_000n + UUID_EPOCH_OFFSET;
  // Python's uuid1 keeps timestamps strictly increasing within a process.
  if (timestamp <= lastTimestamp) timestamp = lastTimestamp + 1n;
  lastTimestamp = timestamp;
  const bytes = new Uint8Array(10);
  const timeLow = Number(timestamp & 0xffffffffn);
  const timeMid = Number((timestamp >> 32n) & 0xffffn);
  new DataView(bytes.buffer).setUint32(0, timeLow);
  new DataView(bytes.buffer).setUint16(4, timeMid);
  new DataView(bytes.buffer).setUint16(6, 0x8000 | clockSequence);
  bytes.set(nodePrefix, 8);
  return base32(bytes);
}
