import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Location } from '@bentoport/spec';
import { fromSystemError, kvFailure } from './kv-errors.js';

/**
 * Where a kv:// location lives on disk. The store is flat, like an object store: a bucket is a
 * directory under the root, and each object one file in it, named by its whole key (`a/b.bento`)
 * percent-encoded, so that keys need no directories and "directories" are only key prefixes.
 */
export interface ObjectAddress {
  bucket: string;
  /** The key without a leading slash; `''` is the bucket itself. */
  key: string;
  bucketDirectory: string;
  /** The object's file (meaningless for the bucket itself). */
  file: string;
}

/** Bucket names as S3 allows them, so a location never reaches outside the root. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Encoded keys stay within the usual 255-byte file name limit, with room for a temporary name. */
const MAX_ENCODED_KEY = 200;

/**
 * A key as a file name. `encodeURIComponent` leaves `.` alone, so a leading dot is encoded too:
 * only in-progress uploads (`temporarySiblingName`) start with a dot.
 */
export function encodeKey(key: string): string {
  return encodeURIComponent(key).replace(/^\./, '%2E');
}

/** The key a stored file name holds, or undefined for an in-progress upload. */
export function decodeKey(name: string): string | undefined {
  return name.startsWith('.') ? undefined : decodeURIComponent(name);
}

/**
 * The bucket, key and files of a kv:// location under `root`.
 * @throws {BentoportError} ERR_UNSUPPORTED_PROTOCOL for another protocol, ERR_INVALID_TARGET for
 * credentials, a bad bucket name or a key too long to store.
 */
export function objectAddress(root: string, location: Location, operation: string): ObjectAddress {
  if (location.protocol !== 'kv') throw kvFailure('ERR_UNSUPPORTED_PROTOCOL', operation, location, `protocol ${location.protocol} is not kv`);
  const bucket = location.host;
  if (bucket.includes('@')) throw kvFailure('ERR_INVALID_TARGET', operation, location, 'kv:// takes no credentials');
  if (!BUCKET.test(bucket)) throw kvFailure('ERR_INVALID_TARGET', operation, location, 'the bucket must be 3 to 63 characters of a-z, 0-9, . and -');
  const key = location.path.replace(/^\/+/, '');
  const name = encodeKey(key);
  if (name.length > MAX_ENCODED_KEY) throw kvFailure('ERR_INVALID_TARGET', operation, location, `the key is longer than ${MAX_ENCODED_KEY} bytes once encoded`);
  const bucketDirectory = path.join(root, bucket);
  return { bucket, key, bucketDirectory, file: path.join(bucketDirectory, name) };
}

/** The object key of a location, refusing the bucket itself and "directory" keys. */
export function objectKey(address: ObjectAddress, location: Location, operation: string): string {
  if (address.key === '' || address.key.endsWith('/')) throw kvFailure('ERR_INVALID_TARGET', operation, location, 'an object needs a key that does not end with /');
  return address.key;
}

/** The keys stored in a bucket, with their files' names. ERR_NOT_FOUND when the bucket does not exist. */
export async function bucketKeys(address: ObjectAddress, location: Location, operation: string): Promise<Array<{ key: string; name: string }>> {
  let names: string[];
  try {
    names = await readdir(address.bucketDirectory);
  } catch (error) {
    throw fromSystemError(error, operation, location);
  }
  const keys: Array<{ key: string; name: string }> = [];
  for (const name of names) {
    const key = decodeKey(name);
    if (key !== undefined) keys.push({ key, name });
  }
  return keys;
}

/** Whether any key starts with `prefix/`: a "directory" exists only while it holds objects. */
export async function hasKeysUnder(address: ObjectAddress, location: Location, operation: string): Promise<boolean> {
  const prefix = `${address.key.replace(/\/+$/, '')}/`;
  return (await bucketKeys(address, location, operation)).some(({ key }) => key.startsWith(prefix));
}

/** Refuse a write when the store's root is missing: a typo in BENTOPORT_KV_ROOT should not create a new store. */
export async function checkRoot(root: string, location: Location, operation: string): Promise<void> {
  const info = await stat(root).catch((error: unknown) => {
    throw (error as NodeJS.ErrnoException).code === 'ENOENT'
      ? kvFailure('ERR_NOT_FOUND', operation, location, `the store's root ${root} does not exist`, error)
      : fromSystemError(error, operation, location);
  });
  if (!info.isDirectory()) throw kvFailure('ERR_INVALID_TARGET', operation, location, `the store's root ${root} is not a directory`);
}
