import {
  DeleteObjectCommand,
  ListObjectsV2Command,
  type S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import path from 'node:path';
import {
  bentoportStateDirectory,
  optionChecks,
  pluginFailure,
  resolveNetworkOptions,
  throwIfAborted,
  uploadJournal,
  withRetry,
  type NetworkOptions,
  type ResolvedNetworkOptions,
} from '@bentoport/plugin-kit';
import { isBentoportError, type Location, type Transport, type TransportListEntry, type TransportStat } from '@bentoport/spec';
import { createClientPool } from './s3-client.js';
import { resolveTarget, retryOptions, type S3Context, type S3Settings } from './s3-context.js';
import { COMPONENT, s3Failure } from './s3-failure.js';
import { directoryPrefix } from './s3-location.js';
import { openMultipartWriter } from './multipart-writer.js';
import { MAX_PART_SIZE, MIN_PART_SIZE, MiB } from './part-size.js';
import { headObject, openRangedReader, type ObjectRequest } from './ranged-reader.js';

/**
 * Options of {@link s3Transport}. Every one is optional: with none, the AWS SDK's defaults and
 * the environment decide. The network options are the kit's: `connectTimeoutMs` and `timeoutMs`
 * (no byte from the server for that long) apply to every request of the clients this transport
 * builds; `retries` covers every request, a part, a range (resumed from its last byte) and the
 * commit, for failures trying again can fix (network, timeouts, 5xx, throttling); `ca` and
 * `rejectUnauthorized` apply to https endpoints; `env` is where the endpoint, region and proxy
 * variables are read. A ready `client` keeps its own timeouts and TLS settings.
 */
export interface S3TransportOptions extends NetworkOptions {
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
   * Send a SHA-256 checksum with every part (S3 additional checksums, checked by the server).
   * Turn off only for a store that refuses `x-amz-checksum-sha256`.
   * @default true
   */
  partChecksums?: boolean;
  /**
   * The proxy URL, or `false` for direct connections.
   * @default from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` in `env` (the kit's `proxyForUrl`)
   */
  proxy?: string | false;
}

/** Every option checked; part and range limits are S3's part sizes and a bound on memory (parts or ranges × their size). */
function resolveSettings(options: S3TransportOptions): { settings: S3Settings; network: ResolvedNetworkOptions } {
  const check = optionChecks(COMPONENT);
  // `retries` covers every request, so the SDK's own attempts are always one: a second retry
  // loop inside the first would multiply the attempts and the waiting.
  check.renamed(options, { maxAttempts: 'retries (it retries every request; maxAttempts counted the first attempt too)' });
  const network = resolveNetworkOptions(COMPONENT, options);
  check.optionalString('region', options.region);
  const endpoint = check.optionalString('endpoint', options.endpoint);
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/i.test(endpoint)) throw check.invalid('endpoint', 'an http:// or https:// URL', endpoint);
  if (options.proxy !== undefined && options.proxy !== false && typeof options.proxy !== 'string') {
    throw new TypeError(`${COMPONENT}: options.proxy must be a URL string or false`);
  }
  const settings: S3Settings = {
    partSize: check.integer('partSize', options.partSize, 8 * MiB, MIN_PART_SIZE, MAX_PART_SIZE),
    partsInFlight: check.integer('partsInFlight', options.partsInFlight, 4, 1, 64),
    rangeSize: check.integer('rangeSize', options.rangeSize, 8 * MiB, 64 * 1024, MAX_PART_SIZE),
    rangesInFlight: check.integer('rangesInFlight', options.rangesInFlight, 4, 1, 64),
    retries: network.retries,
    retryDelayMs: network.retryDelayMs,
    timeoutMs: network.timeoutMs,
    partChecksums: check.boolean('partChecksums', options.partChecksums, true),
  };
  return { settings, network };
}

async function statLocation(context: S3Context, location: Location, options: { signal?: AbortSignal } = {}): Promise<TransportStat> {
  const { signal } = options;
  throwIfAborted(signal, COMPONENT, 'HEAD', location.display);
  const request = await objectRequest(context, location, 'HEAD', signal);
  const { target } = request;
  if (target.key !== '' && !target.key.endsWith('/')) {
    try {
      const head = await headObject(request, 'HEAD', signal);
      return {
        type: 'file',
        size: head.ContentLength ?? 0,
        ...(head.LastModified ? { mtime: head.LastModified } : {}),
        ...(head.ETag ? { etag: head.ETag } : {}),
      };
    } catch (error) {
      if (!isBentoportError(error, 'ERR_NOT_FOUND')) throw error;
      // No object: perhaps a "directory" (a prefix with objects under it).
      if (await hasEntries(request, signal).catch(() => false)) return { type: 'directory', size: 0 };
      throw error;
    }
  }
  if (await hasEntries(request, signal)) return { type: 'directory', size: 0 };
  throw pluginFailure(COMPONENT, 'ERR_NOT_FOUND', 'HEAD', location.display, 'no object under this prefix');
}

/** The location's client and target, with the settings its requests retry by. */
async function objectRequest(context: S3Context, location: Location, operation: string, signal: AbortSignal | undefined): Promise<ObjectRequest> {
  const { target, client } = await resolveTarget(context, location, operation, signal);
  return { client, target, location, settings: context.settings };
}

async function hasEntries({ client, target, location, settings }: ObjectRequest, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    const command = new ListObjectsV2Command({ Bucket: target.bucket, Prefix: directoryPrefix(target.key), MaxKeys: 1 });
    const listed = await withRetry(() => client.send(command, { abortSignal: signal }), retryOptions(settings, signal));
    return (listed.KeyCount ?? listed.Contents?.length ?? 0) > 0;
  } catch (error) {
    throw s3Failure(error, 'LIST', location.display, signal);
  }
}

/** Pages of ListObjectsV2 read at most (1,000 keys a page): one listing stays bounded. */
const MAX_LIST_PAGES = 1_000;

async function listLocation(context: S3Context, location: Location, options: { signal?: AbortSignal } = {}): Promise<TransportListEntry[]> {
  const { signal } = options;
  throwIfAborted(signal, COMPONENT, 'LIST', location.display);
  const request = await objectRequest(context, location, 'LIST', signal);
  const { target, client } = request;
  const prefix = directoryPrefix(target.key);
  const entries: TransportListEntry[] = [];
  let token: string | undefined;
  try {
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const command = new ListObjectsV2Command({ Bucket: target.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token });
      const listed = await withRetry(() => client.send(command, { abortSignal: signal }), retryOptions(context.settings, signal));
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
    throw s3Failure(error, 'LIST', location.display, signal);
  }
  // A bucket root always exists (once the bucket does); any other prefix exists through its objects.
  if (entries.length === 0 && prefix !== '') {
    if (!target.key.endsWith('/')) {
      const isFile = await headObject(request, 'LIST', signal).then(() => true, () => false);
      if (isFile) throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'LIST', location.display, 'an object, not a directory, is at this location');
    }
    throw pluginFailure(COMPONENT, 'ERR_NOT_FOUND', 'LIST', location.display, 'no object under this prefix');
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function deleteLocation(context: S3Context, location: Location, options: { signal?: AbortSignal } = {}): Promise<void> {
  const { signal } = options;
  throwIfAborted(signal, COMPONENT, 'DELETE', location.display);
  const request = await objectRequest(context, location, 'DELETE', signal);
  const { target, client } = request;
  if (target.key === '' || target.key.endsWith('/')) {
    throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'DELETE', location.display, 'a key ending with / names a directory, not an object');
  }
  // S3 answers 204 for a missing key too; the contract wants ERR_NOT_FOUND.
  await headObject(request, 'DELETE', signal);
  try {
    const command = new DeleteObjectCommand({ Bucket: target.bucket, Key: target.key });
    await withRetry(() => client.send(command, { abortSignal: signal }), retryOptions(context.settings, signal));
  } catch (error) {
    throw s3Failure(error, 'DELETE', location.display, signal);
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
  const { settings, network } = resolveSettings(options);
  const pool = createClientPool({
    client: options.client,
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    proxy: options.proxy,
    network,
    maxSockets: Math.max(settings.partsInFlight, settings.rangesInFlight) * 2 + 4,
  });
  // Read from `env` like the endpoint: `BENTOPORT_STATE_DIR`, `XDG_STATE_HOME`, `HOME`.
  const journal = uploadJournal({ directory: path.join(bentoportStateDirectory(network.env), 'leftovers') });
  const context: S3Context = { pool, settings, journal };
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
