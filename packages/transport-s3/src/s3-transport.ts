import {
  DeleteObjectCommand,
  ListObjectsV2Command,
  type S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import {
  BentoportError,
  type Location,
  type Transport,
  type TransportListEntry,
  type TransportStat,
} from '@bentoport/core';
import { createClientPool } from './s3-client.js';
import { resolveTarget, type S3Context, type S3Settings } from './s3-context.js';
import { fromS3Error, s3Failure, throwIfSignalAborted } from './s3-errors.js';
import { directoryPrefix, type S3Target } from './s3-location.js';
import { openMultipartWriter } from './multipart-writer.js';
import { MAX_PART_SIZE, MIN_PART_SIZE, MiB } from './part-size.js';
import { headObject, openRangedReader } from './ranged-reader.js';

/** Options of {@link s3Transport}. Every one is optional: with none, the AWS SDK's defaults and the environment decide. */
export interface S3TransportOptions {
  /**
   * A ready S3 client to use for every location that carries no credentials, endpoint, region
   * or path-style setting of its own (those get a client built from these options). Its own
   * configuration is used as is: no proxy agent or checksum settings are added to it.
   * @default a client created on first use
   */
  client?: S3Client;
  /**
   * The S3 endpoint, for S3-compatible stores (MinIO, Ceph, R2, moto): `http://127.0.0.1:9000`.
   * A URL parameter `endpoint_url` wins over it; without either, `AWS_ENDPOINT_URL_S3`, then
   * `AWS_ENDPOINT_URL`, else AWS.
   * @default from the environment, else AWS
   */
  endpoint?: string;
  /**
   * The region. @default `region` URL parameter, `AWS_REGION`, `AWS_DEFAULT_REGION`, the shared
   * config file, else `us-east-1`
   */
  region?: string;
  /**
   * Address buckets as `endpoint/bucket/key` rather than `bucket.endpoint/key`.
   * @default true with a custom endpoint, false for AWS
   */
  forcePathStyle?: boolean;
  /**
   * Credentials, or a provider of them. URL credentials (`s3://key:secret@bucket/…`, or `user` and
   * `passwd`) win over these.
   * @default the SDK's default chain: environment, shared files and profiles, SSO, container and instance roles
   */
  credentials?: S3ClientConfig['credentials'];
  /**
   * Size of the first parts of an upload, in bytes (5 MiB to 5 GiB). With a size hint every part
   * has one size, enough for S3's 10,000 parts; without, the size doubles every 1,000 parts.
   * @default 8388608 (8 MiB, as the aws CLI)
   */
  partSize?: number;
  /**
   * Parts uploaded at once. Memory held by an upload is about (partsInFlight + 2) × partSize.
   * @default 4
   */
  partsInFlight?: number;
  /**
   * Bytes per ranged GET when downloading.
   * @default 8388608 (8 MiB, as the aws CLI)
   */
  rangeSize?: number;
  /**
   * Ranged GETs in flight when downloading; memory held is about rangesInFlight × rangeSize.
   * @default 4
   */
  rangesInFlight?: number;
  /**
   * Attempts after the first for a part, a range, or a commit that failed for a reason trying
   * again can fix (network, 5xx, throttling), with exponential backoff. On top of the SDK's own
   * attempts (`maxAttempts`).
   * @default 4
   */
  retries?: number;
  /**
   * First backoff delay in milliseconds; it doubles with each retry (with jitter), up to 10 s.
   * @default 500
   */
  retryDelayMilliseconds?: number;
  /**
   * The SDK's attempts per request (its own retry strategy).
   * @default the SDK's (3)
   */
  maxAttempts?: number;
  /**
   * Send a SHA-256 checksum with every part (S3 additional checksums, checked by the server).
   * Turn off only for a store that refuses `x-amz-checksum-sha256`.
   * @default true
   */
  partChecksums?: boolean;
  /**
   * The proxy URL, or `false` for direct connections.
   * @default from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` (core's `proxyForUrl`)
   */
  proxy?: string | false;
  /**
   * Milliseconds a socket may stay idle before the request fails (and is retried).
   * @default 120000
   */
  socketTimeout?: number;
  /**
   * Milliseconds to wait for a connection.
   * @default 30000
   */
  connectionTimeout?: number;
  /**
   * Where endpoint and proxy variables are read.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv;
}

const DEFAULTS = {
  partSize: 8 * MiB,
  partsInFlight: 4,
  rangeSize: 8 * MiB,
  rangesInFlight: 4,
  retries: 4,
  retryDelayMilliseconds: 500,
  socketTimeout: 120_000,
  connectionTimeout: 30_000,
};

function integerOption(options: S3TransportOptions, name: keyof typeof DEFAULTS, minimum: number, maximum: number): number {
  const value = options[name] ?? DEFAULTS[name];
  if (typeof value !== 'number') throw new TypeError(`s3Transport: options.${name} must be a number, got ${typeof value}`);
  if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
    throw new BentoportError('ERR_INVALID_OPTION', `[transport-s3] options.${name} must be an integer from ${minimum} to ${maximum}, got ${value}`);
  }
  return value;
}

function resolveSettings(options: S3TransportOptions): S3Settings {
  if (typeof options !== 'object' || options === null) throw new TypeError('s3Transport: options must be an object');
  const partChecksums = options.partChecksums ?? true;
  if (typeof partChecksums !== 'boolean') throw new TypeError('s3Transport: options.partChecksums must be a boolean');
  for (const name of ['endpoint', 'region'] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== 'string') throw new TypeError(`s3Transport: options.${name} must be a string`);
  }
  if (options.endpoint !== undefined && !/^https?:\/\/[^/\s]+/i.test(options.endpoint)) {
    throw new BentoportError('ERR_INVALID_OPTION', `[transport-s3] options.endpoint must be an http:// or https:// URL, got ${options.endpoint}`);
  }
  if (options.proxy !== undefined && options.proxy !== false && typeof options.proxy !== 'string') {
    throw new TypeError('s3Transport: options.proxy must be a URL string or false');
  }
  return {
    partSize: integerOption(options, 'partSize', MIN_PART_SIZE, MAX_PART_SIZE),
    partsInFlight: integerOption(options, 'partsInFlight', 1, 64),
    rangeSize: integerOption(options, 'rangeSize', 64 * 1024, MAX_PART_SIZE),
    rangesInFlight: integerOption(options, 'rangesInFlight', 1, 64),
    retries: integerOption(options, 'retries', 0, 20),
    retryDelayMilliseconds: integerOption(options, 'retryDelayMilliseconds', 0, 60_000),
    partChecksums,
  };
}

async function statLocation(context: S3Context, location: Location, options: { signal?: AbortSignal } = {}): Promise<TransportStat> {
  const { signal } = options;
  throwIfSignalAborted(signal, 'HEAD', location);
  const { target, client } = await resolveTarget(context, location, 'HEAD', signal);
  if (target.key !== '' && !target.key.endsWith('/')) {
    try {
      const head = await headObject(client, target, location, 'HEAD', signal);
      return {
        type: 'file',
        size: head.ContentLength ?? 0,
        ...(head.LastModified ? { mtime: head.LastModified } : {}),
        ...(head.ETag ? { etag: head.ETag } : {}),
      };
    } catch (error) {
      if (!(error instanceof BentoportError && error.code === 'ERR_NOT_FOUND')) throw error;
      // No object: perhaps a "directory" (a prefix with objects under it).
      if (await hasEntries(client, target, location, signal).catch(() => false)) return { type: 'directory', size: 0 };
      throw error;
    }
  }
  if (await hasEntries(client, target, location, signal)) return { type: 'directory', size: 0 };
  throw s3Failure('ERR_NOT_FOUND', 'HEAD', location, 'no object under this prefix');
}

async function hasEntries(client: S3Client, target: S3Target, location: Location, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: directoryPrefix(target.key), MaxKeys: 1 }), { abortSignal: signal });
    return (listed.KeyCount ?? listed.Contents?.length ?? 0) > 0;
  } catch (error) {
    throw fromS3Error(error, 'LIST', location, signal);
  }
}

/** Pages of ListObjectsV2 read at most (1,000 keys a page): one listing stays bounded. */
const MAX_LIST_PAGES = 1_000;

async function listLocation(context: S3Context, location: Location, options: { signal?: AbortSignal } = {}): Promise<TransportListEntry[]> {
  const { signal } = options;
  throwIfSignalAborted(signal, 'LIST', location);
  const { target, client } = await resolveTarget(context, location, 'LIST', signal);
  const prefix = directoryPrefix(target.key);
  const entries: TransportListEntry[] = [];
  let token: string | undefined;
  try {
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const listed = await client.send(
        new ListObjectsV2Command({ Bucket: target.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
        { abortSignal: signal },
      );
      for (const object of listed.Contents ?? []) {
        const name = (object.Key ?? '').slice(prefix.length);
        // A zero-byte "folder marker" for the prefix itself is not an entry.
        if (name !== '') entries.push({ name, type: 'file', size: object.Size ?? 0 });
      }
      for (const common of listed.CommonPrefixes ?? []) {
        const name = (common.Prefix ?? '').slice(prefix.length).replace(/\/$/, '');
        if (name !== '') entries.push({ name, type: 'directory', size: 0 });
      }
      if (!listed.IsTruncated || !listed.NextContinuationToken) break;
      token = listed.NextContinuationToken;
    }
  } catch (error) {
    throw fromS3Error(error, 'LIST', location, signal);
  }
  // A bucket root always exists (once the bucket does); any other prefix exists through its objects.
  if (entries.length === 0 && prefix !== '') {
    if (!target.key.endsWith('/')) {
      const isFile = await headObject(client, target, location, 'LIST', signal).then(() => true, () => false);
      if (isFile) throw s3Failure('ERR_INVALID_TARGET', 'LIST', location, 'an object, not a directory, is at this location');
    }
    throw s3Failure('ERR_NOT_FOUND', 'LIST', location, 'no object under this prefix');
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function deleteLocation(context: S3Context, location: Location, options: { signal?: AbortSignal } = {}): Promise<void> {
  const { signal } = options;
  throwIfSignalAborted(signal, 'DELETE', location);
  const { target, client } = await resolveTarget(context, location, 'DELETE', signal);
  if (target.key === '' || target.key.endsWith('/')) {
    throw s3Failure('ERR_INVALID_TARGET', 'DELETE', location, 'a key ending with / names a directory, not an object');
  }
  // S3 answers 204 for a missing key too; the contract wants ERR_NOT_FOUND.
  await headObject(client, target, location, 'DELETE', signal);
  try {
    await client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: target.key }), { abortSignal: signal });
  } catch (error) {
    throw fromS3Error(error, 'DELETE', location, signal);
  }
}

/**
 * A transport for `s3://` and `s3a://` locations on AWS S3 or any S3-compatible store (MinIO,
 * Ceph, R2, GCS interoperability, moto).
 *
 * - Uploads stream into a multipart upload (no temporary file, no whole-archive buffer), with a
 *   SHA-256 checksum per part and `partsInFlight` parts at once, each retried from the bytes held
 *   for it; the object appears at `commit()` (CompleteMultipartUpload), and `abort()` aborts the
 *   upload. Objects smaller than one part go in one PutObject at commit.
 * - `write(location, { resume: true })` continues the newest unfinished multipart upload to the
 *   same key, re-sending only parts whose bytes differ, and keeps its own upload if it fails.
 * - Downloads use ranged GETs, `rangesInFlight` at once, delivered in order, each resumed from its
 *   last good byte; a whole-object read is checked against the checksum the object carries.
 * - URL parameters set object settings (`ACL`, `CacheControl`, `ContentType`, `StorageClass`,
 *   `ServerSideEncryption`, `SSEKMSKeyId`, …) and the endpoint, region and path style; an
 *   unknown parameter is `ERR_INVALID_OPTION`.
 *
 * Errors: `ERR_NOT_FOUND` (no such key or bucket), `ERR_AUTH` (401/403, refused or missing
 * credentials), `ERR_ABORTED` (the signal fired), `ERR_CORRUPT_ARCHIVE` (a checksum mismatch on
 * download), `ERR_INVALID_TARGET` (a directory where an object is expected, a bad bucket name),
 * `ERR_INVALID_OPTION`, `ERR_IO` (anything else). Messages read
 * `[transport-s3] PUT s3://bucket/key.bento: 403 Forbidden (AccessDenied: Access Denied)`.
 *
 * @example
 * ```ts
 * import { createBentoport } from '@bentoport/core';
 * import { tarFormat } from '@bentoport/format-tar';
 * import { s3Transport } from '@bentoport/transport-s3';
 *
 * // MinIO: or set AWS_ENDPOINT_URL=http://127.0.0.1:9000 and pass no option at all.
 * const bentoport = createBentoport({
 *   formats: [tarFormat()],
 *   transports: [s3Transport({ endpoint: 'http://127.0.0.1:9000' })],
 * });
 * await bentoport.exportBento('iris_classifier:latest', 's3://models/iris/', 'gz');
 * ```
 */
export function s3Transport(options: S3TransportOptions = {}): Transport {
  const settings = resolveSettings(options);
  const pool = createClientPool({
    client: options.client,
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    maxAttempts: options.maxAttempts,
    proxy: options.proxy,
    socketTimeout: integerOption(options, 'socketTimeout', 0, 3_600_000),
    connectionTimeout: integerOption(options, 'connectionTimeout', 0, 600_000),
    maxSockets: Math.max(settings.partsInFlight, settings.rangesInFlight) * 2 + 4,
    env: options.env ?? process.env,
  });
  const context: S3Context = { pool, settings };
  return {
    apiVersion: 1,
    name: 'transport-s3',
    protocols: ['s3', 's3a'],
    capabilities: { rangedReads: true, list: true, delete: true, atomicCommit: true, resumableWrites: true },
    stat: (location, statOptions) => statLocation(context, location, statOptions),
    read: (location, readOptions = {}) => openRangedReader(location, readOptions, context),
    write: (location, writeOptions = {}) => openMultipartWriter(location, writeOptions, context),
    list: (location, listOptions) => listLocation(context, location, listOptions),
    delete: (location, deleteOptions) => deleteLocation(context, location, deleteOptions),
  };
}
