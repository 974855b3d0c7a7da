import { describe, expect, it } from 'vitest';
import { isRetryableS3Error, s3Failure } from './s3-failure.js';

/** An error as the SDK rejects with it once a request failed before any HTTP answer. */
const withoutAnswer = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), { $metadata: { attempts: 1 } }, fields);

describe('isRetryableS3Error', () => {
  it('does not retry a host name that does not resolve', () => {
    const unknownHost = withoutAnswer('getaddrinfo ENOTFOUND bucket.nowhere.invalid', { code: 'ENOTFOUND', syscall: 'getaddrinfo' });
    expect(isRetryableS3Error(unknownHost)).toBe(false);
    expect(s3Failure(unknownHost, 'HEAD', 's3://bucket/key').details.transient).toBeUndefined();
  });

  it('retries the network failures the kit calls transient and the SDK timeouts without a code', () => {
    expect(isRetryableS3Error(withoutAnswer('read ECONNRESET', { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryableS3Error(withoutAnswer('getaddrinfo EAI_AGAIN s3.example', { code: 'EAI_AGAIN' }))).toBe(true);
    const idle = withoutAnswer('@smithy/node-http-handler - the request socket timed out after 30000 ms of inactivity', { name: 'TimeoutError' });
    expect(isRetryableS3Error(idle)).toBe(true);
  });

  it('retries by status when the server answered', () => {
    const answer = (status: number, name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    expect(isRetryableS3Error(answer(503, 'SlowDown'))).toBe(true);
    expect(isRetryableS3Error(answer(400, 'RequestTimeout'))).toBe(true);
    expect(isRetryableS3Error(answer(404, 'NoSuchKey'))).toBe(false);
    expect(isRetryableS3Error(answer(403, 'AccessDenied'))).toBe(false);
  });
});
