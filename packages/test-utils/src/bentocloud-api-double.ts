/**
 * A test double of BentoCloud's published REST API (`/api/v1`, the part `bentoml push`/`pull`
 * use: repositories, bento and model versions, presigned uploads and downloads). It keeps repositories,
 * bentos and models in memory and puts the bytes on a REAL S3 server (moto): presigned URLs
 * point at that server, so uploads and downloads cross a real S3 data plane.
 *
 * It is strict on purpose: every request is checked against the documented flow (paths, methods,
 * the `X-YATAI-API-TOKEN` and `X-Bentoml-Version` headers, body fields and their types, the order
 * of calls) and a wrong one is answered with the API's error shape (`{"message": …}`, with an
 * `x-trace-id` header on 5xx) and recorded in `violations`. A client that drifts from the
 * documented flow fails its tests instead of teaching the double its mistakes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/**
 * How the double tells the client to move bytes once a version is created (BentoCloud's
 * `transmission_strategy`):
 * - `proxy`: create/update announce `transmission_strategy: "proxy"`; bytes go through
 *   `PUT …/upload` and `GET …/download`;
 * - `proxy-unannounced`: the strategy is null and `presign_upload_url` answers an empty URL,
 *   which also means proxy;
 * - `presigned-single`: the strategy is null and `presign_upload_url` answers a presigned S3 PUT;
 * - `multipart`: create/update announce `"presigned_url"`, so the client uses the multipart calls.
 */
export type BentoCloudTransmission = 'proxy' | 'proxy-unannounced' | 'presigned-single' | 'multipart';

/** A presigned upload that fails on cue, to test retries. */
export interface BentoCloudPartFault {
  /** Which multipart part fails (1-based); 1 also selects the single presigned PUT. */
  partNumber: number;
  /** How many attempts fail before the real S3 server is reached. @default 1 */
  times?: number;
  /** `status`: answer 503 SlowDown after reading the body; `reset`: cut the connection mid-body. @default 'status' */
  mode?: 'status' | 'reset';
}

export interface BentoCloudApiDoubleOptions {
  /** The real S3 endpoint, e.g. moto's `http://127.0.0.1:PORT`. */
  s3Endpoint: string;
  /** Bucket for every object (created when missing). @default 'bentocloud-double' */
  bucket?: string;
  /** The only API token accepted. @default 'test-token' */
  token?: string;
  /** @default 'multipart' */
  transmission?: BentoCloudTransmission;
  /** Transmission for downloads. @default the upload transmission */
  downloadTransmission?: BentoCloudTransmission;
}

/** One `/api/v1` call as the double saw it. */
export interface BentoCloudApiCall {
  method: string;
  /** Path without the `/api/v1` prefix and the query: `/bento_repositories/svc/bentos/v1/start_upload`. */
  path: string;
  query: string;
  body?: unknown;
  status: number;
}

/** A remote bento or model as the double keeps it. */
export interface BentoCloudRecord {
  kind: 'bento' | 'model';
  name: string;
  version: string;
  uploadStatus: 'pending' | 'uploading' | 'success' | 'failed';
  uploadFinishedReason: string;
  description: string;
  manifest: Record<string, unknown>;
  labels: { key: string; value: string }[];
  buildAt: string;
  /** S3 key of the tar. */
  key: string;
  /** Size of the stored object after a successful upload. */
  size?: number;
}

export interface BentoCloudApiDouble {
  /** Endpoint to put in `.yatai.yaml`: `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly token: string;
  readonly bucket: string;
  /** Every `/api/v1` call, in order. */
  readonly calls: BentoCloudApiCall[];
  /** Every request the double refused because it broke the documented flow. */
  readonly violations: string[];
  /** Requests that reached a presigned-URL fault gate, per part number. */
  readonly faultHits: Map<number, number>;
  /** Change the transmission strategy, download strategy or fault for the next calls. */
  configure(options: { transmission?: BentoCloudTransmission; downloadTransmission?: BentoCloudTransmission; fault?: BentoCloudPartFault | null }): void;
  /** Answer the next `count` API calls whose path ends with `suffix` with a 5xx (and an `x-trace-id`). */
  failNextCall(suffix: string, status?: number, count?: number): void;
  /** Run `listener` once, when the next API call whose path ends with `suffix` arrives, before it is handled (to stop a client mid-call). */
  whenCall(suffix: string, listener: () => void): void;
  /** The unfinished S3 multipart uploads in the bucket, as `<key> <upload id>`. */
  unfinishedUploads(): Promise<string[]>;
  /** A remote record, or undefined. */
  record(kind: 'bento' | 'model', name: string, version: string): BentoCloudRecord | undefined;
  /** Put a record in place as if an earlier client had made it (e.g. an existing remote bento). */
  seed(kind: 'bento' | 'model', name: string, version: string, content: Buffer | undefined, uploadStatus?: BentoCloudRecord['uploadStatus']): Promise<void>;
  /** The stored tar bytes of a record. */
  objectBytes(kind: 'bento' | 'model', name: string, version: string): Promise<Buffer>;
  /** Clear the call log and the violations (state stays). */
  resetLog(): void;
  close(): Promise<void>;
}

type StoredRecord = BentoCloudRecord & { uid: string; createdAt: string; updatedAt: string; uploadStartedAt: string | null; uploadFinishedAt: string | null };

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Not a client mistake (a not-found is part of the flow). */
    readonly expected = false,
  ) {
    super(message);
  }
}

interface UploadSession {
  /** Set by create/update (bento) or by any call naming an existing record (model), cleared by finish. */
  prepared: boolean;
  started: boolean;
  multipartId?: string;
  multipartCompleted: boolean;
  proxyUploaded: boolean;
  presignedSingle: boolean;
}

const NAME = /^[a-z0-9]([-._a-z0-9]*[a-z0-9])?$/;
const VERSION = /^[a-z0-9]([-._a-z0-9]*[a-z0-9])?$/i;
const BUILD_AT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/;
const BENTO_MANIFEST_KEYS = ['service', 'bentoml_version', 'size_bytes', 'entry_service', 'name', 'apis', 'models', 'runners', 'services', 'envs', 'schema', 'version', 'dev', 'image', 'spec'];
const MODEL_MANIFEST_KEYS = ['module', 'api_version', 'bentoml_version', 'size_bytes', 'metadata', 'context', 'options'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireKeys(body: unknown, keys: string[], what: string, exact = true): Record<string, unknown> {
  if (!isObject(body)) throw new ApiError(400, `${what}: body must be a JSON object`);
  const missing = keys.filter((key) => !(key in body));
  if (missing.length > 0) throw new ApiError(400, `${what}: missing field(s) ${missing.join(', ')}`);
  if (exact) {
    const extra = Object.keys(body).filter((key) => !keys.includes(key));
    if (extra.length > 0) throw new ApiError(400, `${what}: unknown field(s) ${extra.join(', ')}`);
  }
  return body;
}

function requireType(value: unknown, type: 'string' | 'number' | 'boolean', what: string): void {
  if (typeof value !== type) throw new ApiError(400, `${what} must be a ${type}, got ${JSON.stringify(value)}`);
}

function checkLabels(labels: unknown): { key: string; value: string }[] {
  if (!Array.isArray(labels)) throw new ApiError(400, 'labels must be a list of {key, value}');
  for (const label of labels) {
    const entry = requireKeys(label, ['key', 'value'], 'label');
    requireType(entry['key'], 'string', 'label key');
    requireType(entry['value'], 'string', 'label value');
  }
  return labels as { key: string; value: string }[];
}

function isoNow(): string {
  // BentoCloud's datetimes: naive UTC, microseconds (the client parses them with dateutil).
  return new Date().toISOString().replace('T', ' ').replace('Z', '000');
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Start the double on 127.0.0.1 on a free port.
 * @example
 * ```ts
 * const api = await startBentoCloudApiDouble({ s3Endpoint: `http://127.0.0.1:${motoPort}` });
 * // write .yatai.yaml with endpoint api.url and api_token api.token, push, then:
 * expect(api.violations).toEqual([]);
 * ```
 */
export async function startBentoCloudApiDouble(options: BentoCloudApiDoubleOptions): Promise<BentoCloudApiDouble> {
  const bucket = options.bucket ?? 'bentocloud-double';
  const token = options.token ?? 'test-token';
  let transmission: BentoCloudTransmission = options.transmission ?? 'multipart';
  let downloadTransmission: BentoCloudTransmission | undefined = options.downloadTransmission;
  let fault: BentoCloudPartFault | null = null;
  const failures: { suffix: string; status: number; remaining: number }[] = [];
  const watchers: { suffix: string; listener: () => void }[] = [];
  const s3 = new S3Client({
    endpoint: options.s3Endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // Presigned URLs must not carry checksums of an empty body.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const name = (error as Error).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
  }

  const repositories = new Map<string, { uid: string; name: string; createdAt: string }>();
  const records = new Map<string, StoredRecord>();
  const sessions = new Map<string, UploadSession>();
  const faultGates = new Map<string, { target: string; partNumber: number }>();
  const calls: BentoCloudApiCall[] = [];
  const violations: string[] = [];
  const faultHits = new Map<number, number>();
  let url = '';

  const repoKey = (kind: string, name: string) => `${kind}/${name}`;
  const recordKey = (kind: string, name: string, version: string) => `${kind}/${name}/${version}`;
  const sessionOf = (key: string): UploadSession => {
    let session = sessions.get(key);
    if (!session) {
      session = { prepared: false, started: false, multipartCompleted: false, proxyUploaded: false, presignedSingle: false };
      sessions.set(key, session);
    }
    return session;
  };

  function repositorySchema(kind: 'bento' | 'model', name: string) {
    const repository = repositories.get(repoKey(kind, name));
    if (!repository) throw new ApiError(404, 'record not found', true);
    const latest = [...records.values()].filter((record) => record.kind === kind && record.name === name).at(-1);
    return {
      uid: repository.uid,
      created_at: repository.createdAt,
      updated_at: repository.createdAt,
      deleted_at: null,
      name,
      resource_type: kind === 'bento' ? 'bento_repository' : 'model_repository',
      labels: [],
      description: '',
      [kind === 'bento' ? 'latest_bento' : 'latest_model']: latest ? itemSchema(latest) : null,
    };
  }

  const announced = (mode: BentoCloudTransmission) => (mode === 'proxy' ? 'proxy' : mode === 'multipart' ? 'presigned_url' : null);

  function itemSchema(
    record: StoredRecord,
    extra: Record<string, unknown> = {},
    strategy = announced(transmission),
  ) {
    return {
      uid: record.uid,
      created_at: record.createdAt,
      updated_at: record.updatedAt,
      deleted_at: null,
      name: record.version,
      resource_type: record.kind,
      labels: record.labels,
      description: record.description,
      version: record.version,
      image_build_status: 'pending',
      upload_status: record.uploadStatus,
      upload_finished_reason: record.uploadFinishedReason,
      presigned_upload_url: '',
      presigned_download_url: '',
      manifest: record.manifest,
      transmission_strategy: strategy,
      upload_id: null,
      upload_started_at: record.uploadStartedAt,
      upload_finished_at: record.uploadFinishedAt,
      build_at: record.buildAt,
      ...extra,
    };
  }

  /** Abort the session's multipart upload unless it was completed: a new start, or a failed finish, replaces it. */
  async function abandonMultipart(record: StoredRecord, session: UploadSession): Promise<void> {
    if (session.multipartId === undefined || session.multipartCompleted) return;
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: record.key, UploadId: session.multipartId })).catch(() => undefined);
    session.multipartId = undefined;
  }

  function requireRecord(kind: 'bento' | 'model', name: string, version: string) {
    const record = records.get(recordKey(kind, name, version));
    if (!record) throw new ApiError(404, 'record not found', true);
    return record;
  }

  async function presignedGate(target: string, partNumber: number): Promise<string> {
    if (!fault || fault.partNumber !== partNumber) return target;
    const id = randomBytes(8).toString('hex');
    faultGates.set(id, { target, partNumber });
    return `${url}/_s3-fault/${id}`;
  }

  function checkCreateBody(kind: 'bento' | 'model', body: unknown) {
    const fields = requireKeys(body, ['description', 'version', 'manifest', 'build_at', 'labels'], `create ${kind}`);
    requireType(fields['description'], 'string', 'description');
    requireType(fields['version'], 'string', 'version');
    if (!VERSION.test(fields['version'] as string)) throw new ApiError(400, `invalid version ${JSON.stringify(fields['version'])}`);
    if (Buffer.byteLength(fields['description'] as string) > 4 * 1024 * 1024) throw new ApiError(413, 'description is larger than 4 MB');
    requireType(fields['build_at'], 'string', 'build_at');
    if (!BUILD_AT.test(fields['build_at'] as string)) throw new ApiError(400, `build_at must be "%Y-%m-%d %H:%M:%S.%f" (UTC, no zone), got ${JSON.stringify(fields['build_at'])}`);
    checkManifest(kind, fields['manifest']);
    checkLabels(fields['labels']);
    return fields;
  }

  function checkManifest(kind: 'bento' | 'model', manifest: unknown): void {
    const fields = requireKeys(manifest, kind === 'bento' ? BENTO_MANIFEST_KEYS : MODEL_MANIFEST_KEYS, `${kind} manifest`, false);
    requireType(fields['size_bytes'], 'number', 'manifest.size_bytes');
    requireType(fields['bentoml_version'], 'string', 'manifest.bentoml_version');
    if (kind === 'bento') {
      if (!Array.isArray(fields['models']) || !(fields['models'] as unknown[]).every((tag) => typeof tag === 'string' && /^[^:]+:[^:]+$/.test(tag))) {
        throw new ApiError(400, 'manifest.models must be a list of "name:version" strings');
      }
      requireType(fields['dev'], 'boolean', 'manifest.dev');
      if (fields['spec'] !== 1 && fields['spec'] !== 2) throw new ApiError(400, 'manifest.spec must be 1 or 2');
      if (!isObject(fields['apis'])) throw new ApiError(400, 'manifest.apis must be an object');
      if (!Array.isArray(fields['services'])) throw new ApiError(400, 'manifest.services must be a list');
      for (const service of fields['services'] as unknown[]) {
        const entry = requireKeys(service, ['name', 'service', 'models', 'dependencies', 'config'], 'manifest.services[]', false);
        for (const model of entry['models'] as unknown[]) requireKeys(model, ['tag', 'module', 'creation_time', 'alias', 'registry', 'metadata'], 'manifest.services[].models[]');
      }
    } else {
      for (const key of ['metadata', 'context', 'options']) if (!isObject(fields[key])) throw new ApiError(400, `manifest.${key} must be an object`);
    }
  }

  function noBody(body: Buffer, what: string): void {
    if (body.length > 0) throw new ApiError(400, `${what} takes no body`);
  }

  function parseJson(body: Buffer, what: string): unknown {
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new ApiError(400, `${what}: body is not JSON`);
    }
  }

  async function handleItem(
    kind: 'bento' | 'model',
    name: string,
    version: string,
    action: string | undefined,
    request: IncomingMessage,
    response: ServerResponse,
    readJson: () => Promise<{ raw: Buffer; json?: unknown }>,
  ): Promise<unknown> {
    const key = recordKey(kind, name, version);
    const method = request.method;
    const what = `${kind} ${name}:${version}`;
    if (action === undefined) {
      // A GET is what pull starts with: it announces the download strategy.
      if (method === 'GET') return itemSchema(requireRecord(kind, name, version), {}, announced(downloadTransmission ?? transmission));
      if (method === 'PATCH') {
        const { json } = await readJson();
        const fields = requireKeys(json, ['description', 'manifest', 'labels'], `update ${kind}`);
        requireType(fields['description'], 'string', 'description');
        checkManifest(kind, fields['manifest']);
        const record = requireRecord(kind, name, version);
        record.description = fields['description'] as string;
        record.manifest = fields['manifest'] as Record<string, unknown>;
        record.labels = checkLabels(fields['labels']);
        record.updatedAt = isoNow();
        const session = sessionOf(key);
        await abandonMultipart(record, session);
        Object.assign(session, { prepared: true, started: false, multipartId: undefined, multipartCompleted: false, proxyUploaded: false, presignedSingle: false });
        return itemSchema(record);
      }
      throw new ApiError(405, `method ${method} not allowed on ${what}`);
    }
    const record = requireRecord(kind, name, version);
    const session = sessionOf(key);
    // BentoML's push never updates a model that exists remotely: any call on an existing model prepares it.
    if (kind === 'model' && !session.started) session.prepared = true;
    const needPatch = () => {
      if (method !== 'PATCH') throw new ApiError(405, `${action} takes PATCH, got ${method}`);
    };
    const needStarted = () => {
      if (!session.started) throw new ApiError(400, `${action} on ${what} before start_upload`);
    };
    switch (action) {
      case 'presign_upload_url': {
        needPatch();
        noBody((await readJson()).raw, action);
        if (!session.prepared) throw new ApiError(400, `${action} on ${what} before create or update`);
        if (transmission === 'presigned-single') {
          session.presignedSingle = true;
          const signed = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: record.key }), { expiresIn: 3600 });
          return itemSchema(record, { presigned_upload_url: await presignedGate(signed, 1) });
        }
        return itemSchema(record);
      }
      case 'presign_download_url': {
        needPatch();
        noBody((await readJson()).raw, action);
        if (record.uploadStatus !== 'success') throw new ApiError(400, `${what} has no finished upload`);
        const mode = downloadTransmission ?? transmission;
        if (mode === 'proxy' || mode === 'proxy-unannounced') return itemSchema(record, {}, announced(mode));
        const signed = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: record.key }), { expiresIn: 3600 });
        return itemSchema(record, { presigned_download_url: signed }, announced(mode));
      }
      case 'start_upload': {
        needPatch();
        noBody((await readJson()).raw, action);
        if (!session.prepared) throw new ApiError(400, `start_upload on ${what} before create or update`);
        // Again on an upload that never finished (its client was killed): BentoCloud starts it
        // over, as BentoML's push of an item whose upload_status is not success expects. The
        // unfinished multipart upload of the earlier start goes.
        if (session.started) {
          await abandonMultipart(record, session);
          Object.assign(session, { multipartCompleted: false, proxyUploaded: false });
        }
        session.started = true;
        record.uploadStatus = 'uploading';
        record.uploadStartedAt = isoNow();
        return itemSchema(record);
      }
      case 'start_multipart_upload': {
        needPatch();
        noBody((await readJson()).raw, action);
        needStarted();
        if (transmission !== 'multipart') throw new ApiError(400, `${action}: the announced strategy for ${what} is not presigned_url`);
        await abandonMultipart(record, session);
        const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: record.key, ContentType: 'application/x-tar' }));
        session.multipartId = created.UploadId;
        return itemSchema(record, { upload_id: created.UploadId });
      }
      case 'presign_multipart_upload_url': {
        needPatch();
        const { json } = await readJson();
        const fields = requireKeys(json, ['upload_id', 'part_number'], action);
        requireType(fields['upload_id'], 'string', 'upload_id');
        const partNumber = fields['part_number'];
        if (!Number.isInteger(partNumber) || (partNumber as number) < 1 || (partNumber as number) > 10000) throw new ApiError(400, 'part_number must be an integer from 1 to 10000');
        if (session.multipartId === undefined || fields['upload_id'] !== session.multipartId) throw new ApiError(400, `unknown upload_id ${String(fields['upload_id'])}`);
        const signed = await getSignedUrl(
          s3,
          new UploadPartCommand({ Bucket: bucket, Key: record.key, UploadId: session.multipartId, PartNumber: partNumber as number }),
          { expiresIn: 3600 },
        );
        return itemSchema(record, { presigned_upload_url: await presignedGate(signed, partNumber as number), upload_id: session.multipartId });
      }
      case 'complete_multipart_upload': {
        needPatch();
        const { json } = await readJson();
        const fields = requireKeys(json, ['parts', 'upload_id'], action);
        if (session.multipartId === undefined || fields['upload_id'] !== session.multipartId) throw new ApiError(400, `unknown upload_id ${String(fields['upload_id'])}`);
        if (!Array.isArray(fields['parts']) || fields['parts'].length === 0) throw new ApiError(400, 'parts must be a non-empty list');
        const parts = (fields['parts'] as unknown[]).map((part, index) => {
          const entry = requireKeys(part, ['part_number', 'etag'], 'part');
          if (entry['part_number'] !== index + 1) throw new ApiError(400, `parts must be numbered 1..N in order; position ${index + 1} has ${JSON.stringify(entry['part_number'])}`);
          requireType(entry['etag'], 'string', 'etag');
          return { PartNumber: index + 1, ETag: entry['etag'] as string };
        });
        try {
          await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: record.key, UploadId: session.multipartId, MultipartUpload: { Parts: parts } }));
        } catch (error) {
          throw new ApiError(400, `complete multipart upload: ${(error as Error).message}`);
        }
        session.multipartCompleted = true;
        return itemSchema(record, { upload_id: session.multipartId });
      }
      case 'upload': {
        if (method !== 'PUT') throw new ApiError(405, `upload takes PUT, got ${method}`);
        needStarted();
        if (transmission !== 'proxy' && transmission !== 'proxy-unannounced') throw new ApiError(400, `proxy upload of ${what}, but the strategy is ${transmission}`);
        if (request.headers['content-type'] !== 'application/octet-stream') throw new ApiError(400, `upload needs Content-Type application/octet-stream, got ${String(request.headers['content-type'])}`);
        const length = Number(request.headers['content-length']);
        if (!Number.isInteger(length)) throw new ApiError(411, 'upload needs a Content-Length');
        const { raw } = await readJson();
        if (raw.length !== length) throw new ApiError(400, `upload delivered ${raw.length} bytes, Content-Length said ${length}`);
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: record.key, Body: raw, ContentLength: raw.length }));
        session.proxyUploaded = true;
        return itemSchema(record);
      }
      case 'download': {
        if (method !== 'GET') throw new ApiError(405, `download takes GET, got ${method}`);
        if (record.uploadStatus !== 'success') throw new ApiError(400, `${what} has no finished upload`);
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: record.key }));
        response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(object.ContentLength) });
        (object.Body as Readable).pipe(response);
        return undefined;
      }
      case 'finish_upload': {
        needPatch();
        const { json } = await readJson();
        const fields = requireKeys(json, ['status', 'reason'], action);
        requireType(fields['reason'], 'string', 'reason');
        if (fields['status'] !== 'success' && fields['status'] !== 'failed') throw new ApiError(400, `status must be "success" or "failed", got ${JSON.stringify(fields['status'])}`);
        needStarted();
        if (fields['status'] === 'success') {
          if (session.multipartId !== undefined && !session.multipartCompleted) throw new ApiError(400, `finish_upload success on ${what} before complete_multipart_upload`);
          let size: number | undefined;
          try {
            size = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: record.key }))).ContentLength;
          } catch {
            throw new ApiError(400, `finish_upload success on ${what}, but nothing was uploaded`);
          }
          record.size = size;
          record.uploadStatus = 'success';
          record.uploadFinishedReason = '';
        } else {
          if ((fields['reason'] as string) === '') throw new ApiError(400, 'a failed upload needs a reason');
          await abandonMultipart(record, session);
          record.uploadStatus = 'failed';
          record.uploadFinishedReason = fields['reason'] as string;
        }
        record.uploadFinishedAt = isoNow();
        sessions.delete(key);
        return itemSchema(record);
      }
      default:
        throw new ApiError(404, `not found this router with method ${method}`);
    }
  }

  /** One page of a list answer, `{start, count, total, items}`, as `?start=&count=` ask (all of it without them). */
  function listPage<T>(items: T[], url: string | undefined): { start: number; count: number; total: number; items: T[] } {
    const query = new URL(url ?? '/', 'http://double').searchParams;
    const start = Number(query.get('start') ?? 0);
    const count = query.has('count') ? Number(query.get('count')) : items.length;
    const page = items.slice(start, start + count);
    return { start, count: page.length, total: items.length, items: page };
  }

  async function route(request: IncomingMessage, response: ServerResponse, path: string, readJson: () => Promise<{ raw: Buffer; json?: unknown }>): Promise<unknown> {
    const method = request.method ?? 'GET';
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    const [collection, name, sub, version, action, ...rest] = segments;
    if (rest.length > 0) throw new ApiError(404, `not found this router with method ${method}`);
    if ((collection === 'bentos' || collection === 'models') && name === undefined) {
      if (method !== 'GET') throw new ApiError(405, `method ${method} not allowed`);
      const kind = collection === 'bentos' ? 'bento' : 'model';
      // BentoWithRepositorySchema: each item of the organisation's list names its repository.
      const items = [...records.values()].filter((record) => record.kind === kind).map((record) => itemSchema(record, { repository: repositorySchema(kind, record.name) }));
      return listPage(items, request.url);
    }
    const kind = collection === 'bento_repositories' ? 'bento' : collection === 'model_repositories' ? 'model' : undefined;
    const plural = kind === 'bento' ? 'bentos' : 'models';
    if (kind === undefined) throw new ApiError(404, `not found this router with method ${method}`);
    if (name === undefined) {
      if (method !== 'POST') throw new ApiError(405, `method ${method} not allowed on ${collection}`);
      const { json } = await readJson();
      const fields = requireKeys(json, ['name', 'description'], `create ${kind} repository`);
      requireType(fields['name'], 'string', 'name');
      requireType(fields['description'], 'string', 'description');
      const repoName = fields['name'] as string;
      if (!NAME.test(repoName)) throw new ApiError(400, `invalid repository name ${JSON.stringify(repoName)}`);
      if (repositories.has(repoKey(kind, repoName))) throw new ApiError(400, `${kind} repository ${repoName} already exists`);
      repositories.set(repoKey(kind, repoName), { uid: randomUUID(), name: repoName, createdAt: isoNow() });
      return repositorySchema(kind, repoName);
    }
    if (sub === undefined) {
      if (method !== 'GET') throw new ApiError(405, `method ${method} not allowed on a repository`);
      return repositorySchema(kind, name);
    }
    if (sub !== plural) throw new ApiError(404, `not found this router with method ${method}`);
    if (version === undefined) {
      if (!repositories.has(repoKey(kind, name))) throw new ApiError(404, 'record not found', true);
      if (method === 'GET') {
        const items = [...records.values()].filter((record) => record.kind === kind && record.name === name).reverse().map((record) => itemSchema(record));
        return listPage(items, request.url);
      }
      if (method !== 'POST') throw new ApiError(405, `method ${method} not allowed on ${plural}`);
      const { json } = await readJson();
      const fields = checkCreateBody(kind, json);
      const itemVersion = fields['version'] as string;
      const key = recordKey(kind, name, itemVersion);
      if (records.has(key)) throw new ApiError(400, `${kind} ${name}:${itemVersion} already exists`);
      const now = isoNow();
      const record: StoredRecord = {
        kind,
        name,
        version: itemVersion,
        uploadStatus: 'pending',
        uploadFinishedReason: '',
        description: fields['description'] as string,
        manifest: fields['manifest'] as Record<string, unknown>,
        labels: fields['labels'] as { key: string; value: string }[],
        buildAt: fields['build_at'] as string,
        key: `${plural}/${name}/${itemVersion}.tar`,
        uid: randomUUID(),
        createdAt: now,
        updatedAt: now,
        uploadStartedAt: null,
        uploadFinishedAt: null,
      };
      records.set(key, record);
      sessions.set(key, { prepared: true, started: false, multipartCompleted: false, proxyUploaded: false, presignedSingle: false });
      return itemSchema(record);
    }
    return handleItem(kind, name, version, action, request, response, readJson);
  }

  async function handleFaultGate(request: IncomingMessage, response: ServerResponse, id: string): Promise<void> {
    const gate = faultGates.get(id);
    if (!gate) {
      response.writeHead(404).end();
      return;
    }
    const hits = (faultHits.get(gate.partNumber) ?? 0) + 1;
    faultHits.set(gate.partNumber, hits);
    if (fault && fault.partNumber === gate.partNumber && hits <= (fault.times ?? 1)) {
      if ((fault.mode ?? 'status') === 'reset') {
        let seen = 0;
        request.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > 1024) request.socket.destroy();
        });
        request.on('end', () => request.socket.destroy());
        return;
      }
      await readBody(request);
      response.writeHead(503, { 'content-type': 'application/xml' });
      response.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      return;
    }
    // Pass through to the real S3 server, with the headers a signature may cover.
    const target = new URL(gate.target);
    const headers: Record<string, string> = {};
    for (const name of ['content-length', 'content-type', 'content-md5']) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    await new Promise<void>((resolve) => {
      const upstream = httpRequest(target, { method: request.method, headers }, (upstreamResponse) => {
        response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(response);
        upstreamResponse.on('end', resolve);
      });
      upstream.on('error', () => {
        response.destroy();
        resolve();
      });
      request.pipe(upstream);
    });
  }

  const server: Server = createServer((request, response) => {
    void (async () => {
      const parsed = new URL(request.url ?? '/', 'http://double');
      if (parsed.pathname.startsWith('/_s3-fault/')) {
        await handleFaultGate(request, response, parsed.pathname.slice('/_s3-fault/'.length));
        return;
      }
      const call: BentoCloudApiCall = { method: request.method ?? '', path: parsed.pathname.replace(/^\/api\/v1/, ''), query: parsed.search, status: 0 };
      calls.push(call);
      const watcher = watchers.findIndex((entry) => call.path.endsWith(entry.suffix));
      if (watcher >= 0) watchers.splice(watcher, 1)[0]?.listener();
      let raw: Buffer | undefined;
      const readJson = async () => {
        raw ??= await readBody(request);
        const isJson = String(request.headers['content-type'] ?? '').startsWith('application/json');
        if (raw.length > 0 && call.path.endsWith('/upload') === false) {
          if (!isJson) throw new ApiError(400, `body must be sent as application/json, got ${String(request.headers['content-type'])}`);
          call.body = parseJson(raw, call.path);
          return { raw, json: call.body };
        }
        return { raw };
      };
      try {
        if (!parsed.pathname.startsWith('/api/v1/')) throw new ApiError(404, `not found this router with method ${request.method}`);
        const apiToken = request.headers['x-yatai-api-token'];
        if (apiToken !== token) throw new ApiError(403, 'get user by api token: record not found');
        const bentomlVersion = request.headers['x-bentoml-version'];
        if (typeof bentomlVersion !== 'string' || !/^\d+\.\d+/.test(bentomlVersion)) throw new ApiError(400, 'missing or malformed X-Bentoml-Version header');
        const failure = failures.find((entry) => entry.remaining > 0 && call.path.endsWith(entry.suffix));
        if (failure) {
          failure.remaining--;
          await readBody(request);
          call.status = failure.status;
          response.writeHead(failure.status, { 'content-type': 'application/json', 'x-trace-id': randomBytes(16).toString('hex') });
          response.end(JSON.stringify({ message: 'internal error (injected by the test double)' }));
          return;
        }
        const result = await route(request, response, call.path, readJson);
        call.status = 200;
        if (result !== undefined) {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify(result));
        }
      } catch (error) {
        const status = error instanceof ApiError ? error.status : 500;
        const message = error instanceof Error ? error.message : String(error);
        if (!(error instanceof ApiError && error.expected)) violations.push(`${request.method} ${call.path}: ${status} ${message}`);
        call.status = status;
        if (raw === undefined && !request.readableEnded) request.resume();
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (status >= 500) headers['x-trace-id'] = randomBytes(16).toString('hex');
        if (!response.headersSent) response.writeHead(status, headers);
        response.end(JSON.stringify({ message }));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token,
    bucket,
    calls,
    violations,
    faultHits,
    configure(update) {
      if (update.transmission !== undefined) transmission = update.transmission;
      if (update.downloadTransmission !== undefined) downloadTransmission = update.downloadTransmission;
      if (update.fault !== undefined) {
        fault = update.fault;
        faultHits.clear();
      }
    },
    failNextCall(suffix, status = 503, count = 1) {
      failures.push({ suffix, status, remaining: count });
    },
    whenCall(suffix, listener) {
      watchers.push({ suffix, listener });
    },
    async unfinishedUploads() {
      const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      return (listed.Uploads ?? []).map((upload) => `${upload.Key} ${upload.UploadId}`);
    },
    record(kind, name, version) {
      const record = records.get(recordKey(kind, name, version));
      return record === undefined ? undefined : { ...record };
    },
    async seed(kind, name, version, content, uploadStatus = 'success') {
      if (!repositories.has(repoKey(kind, name))) repositories.set(repoKey(kind, name), { uid: randomUUID(), name, createdAt: isoNow() });
      const plural = kind === 'bento' ? 'bentos' : 'models';
      const now = isoNow();
      const record: StoredRecord = {
        kind,
        name,
        version,
        uploadStatus,
        uploadFinishedReason: '',
        description: '',
        manifest: {},
        labels: [],
        buildAt: now,
        key: `${plural}/${name}/${version}.tar`,
        uid: randomUUID(),
        createdAt: now,
        updatedAt: now,
        uploadStartedAt: null,
        uploadFinishedAt: null,
        size: content?.length,
      };
      if (content !== undefined) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: record.key, Body: content, ContentLength: content.length }));
      records.set(recordKey(kind, name, version), record);
    },
    async objectBytes(kind, name, version) {
      const record = records.get(recordKey(kind, name, version));
      if (!record) throw new Error(`no ${kind} ${name}:${version} in the double`);
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: record.key }));
      return Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    },
    resetLog() {
      calls.length = 0;
      violations.length = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      s3.destroy();
    },
  };
}
