import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { isBentoportError } from '@bentoport/core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCountingProxy, type CountingProxy } from './counting-proxy.js';
import { freshBucket, inspectionClient, s3Location, TEST_CREDENTIALS } from './moto-fixtures.js';
import { objectVerifier } from './object-checksum.js';
import { s3Transport, type S3TransportOptions } from './s3-transport.js';

const endpoint = inject('motoEndpoint');
const MiB = 1024 * 1024;

function seededBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let offset = 0, counter = 0; offset < length; counter++) {
    offset += createHash('sha256').update(`${seed}:${counter}`).digest().copy(out, offset);
  }
  return out;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('base64');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe.skipIf(endpoint === '')('ranged download (moto)', () => {
  const client = inspectionClient(endpoint);
  let proxy: CountingProxy;
  let bucket = '';
  const transport = (options: S3TransportOptions = {}) =>
    s3Transport({ endpoint: proxy.url, credentials: TEST_CREDENTIALS, region: 'us-east-1', proxy: false, rangeSize: MiB, retryDelayMs: 50, ...options });

  /** A multipart object of 5 MiB parts whose stored part checksums are what we say. */
  async function multipartObject(key: string, data: Buffer, checksumOf: (part: Buffer, index: number) => string): Promise<void> {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'SHA256' }));
    const parts = [];
    for (let index = 0; index * 5 * MiB < data.length; index++) {
      const body = data.subarray(index * 5 * MiB, (index + 1) * 5 * MiB);
      const checksum = checksumOf(body, index);
      const { ETag } = await client.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body: body, ChecksumAlgorithm: 'SHA256', ChecksumSHA256: checksum }),
      );
      parts.push({ PartNumber: index + 1, ETag, ChecksumSHA256: checksum });
    }
    await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
  }

  beforeAll(async () => {
    const { port } = new URL(endpoint);
    proxy = await startCountingProxy({ host: '127.0.0.1', port: Number(port) });
    bucket = await freshBucket(client, 'download');
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('reads with several ranged GETs in flight and delivers the bytes in order', async () => {
    const data = seededBytes(12 * MiB + 77, 1);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'ranged.bin', Body: data }));
    proxy.reset();
    const read = await readAll(await transport({ rangesInFlight: 4 }).read(s3Location(bucket, 'ranged.bin')));
    expect(Buffer.compare(read, data)).toBe(0);
    const gets = proxy.requestHeads.filter((head) => head.startsWith('get '));
    expect(gets).toHaveLength(13);
    for (const head of gets) expect(head).toMatch(/\r\nrange: bytes=\d+-\d+\r\n/);
    expect(proxy.bytesDown).toBeLessThan(data.length * 1.01);
  });

  it('resumes an interrupted range from its last good byte', async () => {
    const data = seededBytes(6 * MiB, 2);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'interrupted.bin', Body: data }));
    const stream = await transport({ rangesInFlight: 2, rangeSize: 3 * MiB }).read(s3Location(bucket, 'interrupted.bin'));
    proxy.reset();
    // Both ranges are in flight when every connection is cut, 1.5 MiB into the answers.
    proxy.cutAfter(1.5 * MiB, { direction: 'down', stayDown: false });
    expect(Buffer.compare(await readAll(stream), data)).toBe(0);
    const starts = proxy.requestHeads.map((head) => Number(/\r\nrange: bytes=(\d+)-/.exec(head)?.[1]));
    // A range asked again from where its bytes stopped, not from its beginning (0 or 3 MiB).
    expect(starts.some((start) => start % (3 * MiB) !== 0)).toBe(true);
    expect(proxy.bytesDown).toBeLessThan(data.length * 1.3);
  });

  it('verifies a single-part object against its SHA-256 and refuses a mismatch with ERR_CORRUPT_ARCHIVE', async () => {
    const data = seededBytes(3 * MiB, 3);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'good.bin', Body: data, ChecksumAlgorithm: 'SHA256', ChecksumSHA256: sha256(data) }));
    expect(Buffer.compare(await readAll(await transport().read(s3Location(bucket, 'good.bin'))), data)).toBe(0);
    // moto stores the checksum it is given without checking it: a real server holding a wrong one.
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad.bin', Body: data, ChecksumAlgorithm: 'SHA256', ChecksumSHA256: sha256(Buffer.from('other')) }));
    const failure = await readAll(await transport().read(s3Location(bucket, 'bad.bin'))).then(() => undefined, (error: unknown) => error);
    expect(isBentoportError(failure, 'ERR_CORRUPT_ARCHIVE')).toBe(true);
    expect((failure as Error).message).toMatch(/^\[transport-s3\] GET s3:\/\/download-[0-9a-f]+\/bad\.bin: SHA256 checksum mismatch/);
  });

  it('verifies a multipart object against its composite SHA-256 (part sizes from HEAD ?partNumber=1)', async () => {
    const data = seededBytes(12 * MiB + 5, 4);
    await multipartObject('composite.bin', data, (part) => sha256(part));
    proxy.reset();
    expect(Buffer.compare(await readAll(await transport().read(s3Location(bucket, 'composite.bin'))), data)).toBe(0);
    expect(proxy.requests.filter((line) => line.startsWith('HEAD ') && line.includes('partNumber=1'))).toHaveLength(1);
    // moto recomputes a multipart object's checksum itself, so damage the bytes instead of the
    // stored value: the verifier built from the server's answer refuses them.
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'composite.bin', ChecksumMode: 'ENABLED' }));
    const verifier = await objectVerifier(client, bucket, 'composite.bin', head, data.length, undefined);
    const damaged = Buffer.from(data);
    damaged[7 * MiB] = (damaged[7 * MiB] ?? 0) ^ 1;
    verifier!.update(damaged);
    expect(verifier!.finish()).toMatch(/^SHA256 checksum mismatch/);
    // A ranged read cannot be checked against a whole-object checksum: it is not.
    const tail = await readAll(await transport().read(s3Location(bucket, 'composite.bin'), { start: 10 * MiB }));
    expect(Buffer.compare(tail, data.subarray(10 * MiB))).toBe(0);
  });

  it('rejects a missing key with ERR_NOT_FOUND before handing out a stream', async () => {
    await expect(transport().read(s3Location(bucket, 'missing.bin'))).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
      message: expect.stringMatching(/^\[transport-s3\] GET s3:\/\/download-[0-9a-f]+\/missing\.bin: 404 Not Found/),
    });
  });
});
