import type { CreateMultipartUploadCommandInput, PutObjectCommandInput } from '@aws-sdk/client-s3';
import { pluginFailure } from '@bentoport/plugin-kit';
import type { Location } from '@bentoport/spec';
import { COMPONENT } from './s3-failure.js';

/** Object settings a URL parameter (BentoML's `params`) may carry, sent with PutObject / CreateMultipartUpload. */
export type S3ObjectSettings = Pick<
  PutObjectCommandInput & CreateMultipartUploadCommandInput,
  | 'ACL'
  | 'CacheControl'
  | 'ContentDisposition'
  | 'ContentEncoding'
  | 'ContentLanguage'
  | 'ContentType'
  | 'StorageClass'
  | 'ServerSideEncryption'
  | 'SSEKMSKeyId'
  | 'BucketKeyEnabled'
  | 'Tagging'
  | 'ExpectedBucketOwner'
>;

/** Client settings a URL parameter may carry, so an S3-compatible store works from the command line alone. */
export interface S3ClientSettings {
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** A location taken apart: which bucket and key, with which client and object settings. */
export interface S3Target {
  bucket: string;
  /** The object key (no leading `/`); ends with `/` for a directory. */
  key: string;
  client: S3ClientSettings;
  object: S3ObjectSettings;
}

type ParameterKind = { field: keyof S3ObjectSettings; kind: 'object' } | { field: 'endpoint' | 'region' | 'forcePathStyle'; kind: 'client' };

/**
 * Accepted parameter names, compared without case, `_` or `-`: `ACL`, `acl`, `cache_control`,
 * `Cache-Control` and `CacheControl` are one parameter. fsspec/s3fs spellings (`endpoint_url`,
 * `region_name`) are accepted too.
 */
const PARAMETERS: Record<string, ParameterKind> = {
  acl: { field: 'ACL', kind: 'object' },
  cachecontrol: { field: 'CacheControl', kind: 'object' },
  contentdisposition: { field: 'ContentDisposition', kind: 'object' },
  contentencoding: { field: 'ContentEncoding', kind: 'object' },
  contentlanguage: { field: 'ContentLanguage', kind: 'object' },
  contenttype: { field: 'ContentType', kind: 'object' },
  storageclass: { field: 'StorageClass', kind: 'object' },
  serversideencryption: { field: 'ServerSideEncryption', kind: 'object' },
  sse: { field: 'ServerSideEncryption', kind: 'object' },
  ssekmskeyid: { field: 'SSEKMSKeyId', kind: 'object' },
  bucketkeyenabled: { field: 'BucketKeyEnabled', kind: 'object' },
  tagging: { field: 'Tagging', kind: 'object' },
  expectedbucketowner: { field: 'ExpectedBucketOwner', kind: 'object' },
  endpoint: { field: 'endpoint', kind: 'client' },
  endpointurl: { field: 'endpoint', kind: 'client' },
  region: { field: 'region', kind: 'client' },
  regionname: { field: 'region', kind: 'client' },
  forcepathstyle: { field: 'forcePathStyle', kind: 'client' },
  pathstyle: { field: 'forcePathStyle', kind: 'client' },
};

const CANNED_ACLS = new Set([
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
]);
const SERVER_SIDE_ENCRYPTION = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);

export const PARAMETER_NAMES = 'ACL, CacheControl, ContentDisposition, ContentEncoding, ContentLanguage, ContentType, StorageClass, ServerSideEncryption, SSEKMSKeyId, BucketKeyEnabled, Tagging, ExpectedBucketOwner, endpoint_url, region, force_path_style';

export function parseBoolean(value: string): boolean | undefined {
  const lowered = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lowered)) return true;
  if (['0', 'false', 'no', 'off'].includes(lowered)) return false;
  return undefined;
}

function checkValue(field: string, value: string, location: Location, operation: string): void {
  const invalid = (expected: string) =>
    pluginFailure(COMPONENT, 'ERR_INVALID_OPTION', operation, location.display, `parameter ${field}=${value} is invalid (${expected})`);
  if (field === 'ACL' && !CANNED_ACLS.has(value)) throw invalid(`one of ${[...CANNED_ACLS].join(', ')}`);
  if (field === 'ServerSideEncryption' && !SERVER_SIDE_ENCRYPTION.has(value)) throw invalid('AES256, aws:kms or aws:kms:dsse');
  if (field === 'StorageClass' && !/^[A-Z_]+$/.test(value)) throw invalid('an S3 storage class such as STANDARD_IA');
  if (field === 'endpoint' && !/^https?:\/\/[^/\s]+/i.test(value)) throw invalid('an http:// or https:// URL');
  if (value === '') throw invalid('empty');
}

function parseQuery(query: string, location: Location, operation: string): Pick<S3Target, 'client' | 'object'> {
  const client: S3ClientSettings = {};
  const object: Record<string, unknown> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    const known = PARAMETERS[name.toLowerCase().replace(/[-_]/g, '')];
    if (known === undefined) {
      throw pluginFailure(COMPONENT, 'ERR_INVALID_OPTION', operation, location.display, `unknown parameter '${name}' (known: ${PARAMETER_NAMES})`);
    }
    checkValue(known.field, value, location, operation);
    if (known.field === 'forcePathStyle' || known.field === 'BucketKeyEnabled') {
      const flag = parseBoolean(value);
      if (flag === undefined) throw pluginFailure(COMPONENT, 'ERR_INVALID_OPTION', operation, location.display, `parameter ${name}=${value} is not a boolean`);
      if (known.kind === 'client') client.forcePathStyle = flag;
      else object[known.field] = flag;
    } else if (known.kind === 'client') {
      client[known.field as 'endpoint' | 'region'] = value;
    } else {
      object[known.field] = value;
    }
  }
  return { client, object: object as S3ObjectSettings };
}

function decodeComponent(text: string, location: Location, operation: string): string {
  try {
    return decodeURIComponent(text);
  } catch (error) {
    throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', operation, location.display, 'the credentials in the URL are not valid percent-encoding', { cause: error });
  }
}

/**
 * Take an `s3`/`s3a` location apart, as core resolved it from `s3://[key:secret@]bucket/key?params`
 * or from `protocol: 's3'` with `user`/`passwd`/`params`/`subpath`.
 * @throws {BentoportError} ERR_UNSUPPORTED_PROTOCOL, ERR_INVALID_TARGET (no bucket, a secret without
 * a key), ERR_INVALID_OPTION (an unknown or invalid parameter).
 */
export function parseS3Location(location: Location, operation: string): S3Target {
  if (location.protocol !== 's3' && location.protocol !== 's3a') {
    throw pluginFailure(COMPONENT, 'ERR_UNSUPPORTED_PROTOCOL', operation, location.display, `protocol ${location.protocol} is not s3`);
  }
  const at = location.host.lastIndexOf('@');
  const bucket = location.host.slice(at + 1);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{1,254}$/.test(bucket)) {
    throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', operation, location.display, bucket === '' ? 'no bucket given' : `'${bucket}' is not a valid bucket name`);
  }
  const settings = parseQuery(location.query, location, operation);
  if (at !== -1) {
    const userInfo = location.host.slice(0, at);
    const colon = userInfo.indexOf(':');
    const accessKeyId = decodeComponent(colon === -1 ? userInfo : userInfo.slice(0, colon), location, operation);
    const secretAccessKey = colon === -1 ? undefined : decodeComponent(userInfo.slice(colon + 1), location, operation);
    if (accessKeyId === '' || secretAccessKey === undefined || secretAccessKey === '') {
      throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', operation, location.display, 'credentials in the URL need both an access key id (user) and a secret (passwd)');
    }
    settings.client.accessKeyId = accessKeyId;
    settings.client.secretAccessKey = secretAccessKey;
  }
  const key = location.path.replace(/^\/+/, '');
  return { bucket, key, ...settings };
}

/** The key as a directory prefix: `''` for the bucket root, else ending with `/`. */
export function directoryPrefix(key: string): string {
  return key === '' || key.endsWith('/') ? key : `${key}/`;
}
