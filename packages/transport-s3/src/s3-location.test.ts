import { resolveExportTarget, resolveImportSource } from '@bentoport/core';
import { describe, expect, it } from 'vitest';
import { s3Failure } from './s3-failure.js';
import { parseS3Location } from './s3-location.js';

const importLocation = (source: string, options?: Parameters<typeof resolveImportSource>[2]) =>
  resolveImportSource(source, undefined, options, 'bento').location;

describe('parseS3Location', () => {
  it('takes bucket, key, credentials and parameters from what core resolves for s3://key:secret@bucket/key?params', () => {
    const location = importLocation('s3://AKIA%2FX:se%2Fcret@my-bucket/dir/x.bento?ACL=private&cache_control=no-cache&endpoint_url=http%3A%2F%2F127.0.0.1%3A9000&force_path_style=false');
    expect(location.display).not.toContain('se%2Fcret');
    expect(parseS3Location(location, 'GET')).toEqual({
      bucket: 'my-bucket',
      key: 'dir/x.bento',
      client: { endpoint: 'http://127.0.0.1:9000', forcePathStyle: false, accessKeyId: 'AKIA/X', secretAccessKey: 'se/cret' },
      object: { ACL: 'private', CacheControl: 'no-cache' },
    });
  });

  it('reads BentoML keyword form: protocol s3, user/passwd, params and subpath', async () => {
    const { location } = await resolveExportTarget({
      target: 'bucket-name',
      options: { protocol: 's3', user: 'key', passwd: 'p@ss', subpath: 'folder/', params: { StorageClass: 'STANDARD_IA', 'server-side-encryption': 'aws:kms', SSEKMSKeyId: 'k1' } },
      kind: 'bento',
      name: 'svc',
      version: 'v1',
      format: 'gz',
      isLocalDirectory: async () => false,
    });
    expect(parseS3Location(location, 'PUT')).toMatchObject({
      bucket: 'bucket-name',
      key: 'folder/svc-v1.gz',
      client: { accessKeyId: 'key', secretAccessKey: 'p@ss' },
      object: { StorageClass: 'STANDARD_IA', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'k1' },
    });
  });

  it('accepts s3a and refuses other protocols', () => {
    expect(parseS3Location(importLocation('s3a://bucket-a/k'), 'GET').bucket).toBe('bucket-a');
    expect(() => parseS3Location(importLocation('ftp://host/k'), 'GET')).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_PROTOCOL' }));
  });

  it('refuses unknown or invalid parameters with ERR_INVALID_OPTION naming them', () => {
    expect(() => parseS3Location(importLocation('s3://bucket/k?colour=blue'), 'PUT')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining("unknown parameter 'colour'") }),
    );
    expect(() => parseS3Location(importLocation('s3://bucket/k?ACL=everyone'), 'PUT')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => parseS3Location(importLocation('s3://bucket/k?path_style=maybe'), 'PUT')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });

  it('refuses a missing bucket and a secret without a key with ERR_INVALID_TARGET', () => {
    expect(() => parseS3Location(importLocation('s3:///k'), 'GET')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TARGET' }));
    expect(() => parseS3Location(importLocation('s3://:secret@bucket/k'), 'GET')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TARGET' }));
  });
});

describe('s3Failure', () => {
  const location = importLocation('s3://key:secret@bucket/k.bento');
  it('maps 403 to ERR_AUTH with a one-sentence message that hides the secret', () => {
    const error = Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const mapped = s3Failure(error, 'PUT', location.display);
    expect(mapped.code).toBe('ERR_AUTH');
    expect(mapped.message).toBe('[transport-s3] PUT s3://key:***@bucket/k.bento: 403 Forbidden (AccessDenied: Access Denied)');
    expect(mapped.cause).toBe(error);
  });
  it('maps NoSuchKey and 404 to ERR_NOT_FOUND, missing credentials to ERR_AUTH, the rest to ERR_IO', () => {
    expect(s3Failure(Object.assign(new Error('x'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }), 'GET', location.display).code).toBe('ERR_NOT_FOUND');
    expect(s3Failure(Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }), 'GET', location.display).code).toBe('ERR_AUTH');
    expect(s3Failure(Object.assign(new Error('boom'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } }), 'GET', location.display).code).toBe('ERR_IO');
  });
});
