import { createHash } from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { isBentoportError } from '@bentoport/core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCountingProxy, type CountingProxy } from './counting-proxy.js';
import { freshBucket, inspectionClient, s3Location, TEST_CREDENTIALS, unfinishedUploads } from './moto-fixtures.js';
import { MiB, partSizeFor } from './part-size.js';
import { s3Transport, type S3TransportOptions } from './s3-transport.js';

const endpoint = inject('motoEndpoint');
const partSize = 5 * MiB;

/** Seeded, incompressible-looking bytes: SHA-256 in counter mode. */
function seededBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let offset = 0, counter = 0; offset < length; counter++) {
    const block = createHash('sha256').update(`${seed}:${counter}`).digest();
    offset += block.copy(out, offset);
  }
  return out;
}

/** Feed `data` in chunks with backpressure; rejects when the writer stream errors. */
async function writeAll(stream: Writable, data: Buffer, chunk = 256 * 1024): Promise<void> {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += chunk) chunks.push(data.subarray(offset, offset + chunk));
  await pipeline(Readable.from(chunks), stream);
}

async function objectBytes(bucket: string, key: string): Promise<Buffer> {
  const response = await inspectionClient(endpoint).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

describe('part sizes', () => {
  it('keeps one size within 10,000 parts when the size is known, and grows every 1,000 parts when it is not', () => {
    expect(partSizeFor(1, 16 * MiB, 1024 * MiB)).toBe(16 * MiB);
    // 1 TiB in at most 10,000 parts needs 105 MiB parts (rounded up to a MiB).
    const forOneTebibyte = partSizeFor(1, 16 * MiB, 1024 * 1024 * MiB);
    expect(forOneTebibyte * 10_000).toBeGreaterThanOrEqual(1024 * 1024 * MiB);
    expect(forOneTebibyte % MiB).toBe(0);
    expect(partSizeFor(1000, 16 * MiB, undefined)).toBe(16 * MiB);
    expect(partSizeFor(1001, 16 * MiB, undefined)).toBe(32 * MiB);
    expect(partSizeFor(10_000, 16 * MiB, undefined)).toBe(5 * 1024 * MiB);
    let total = 0;
    for (let part = 1; part <= 10_000; part++) total += partSizeFor(part, 16 * MiB, undefined);
    expect(total).toBeGreaterThan(5 * 1024 * 1024 * MiB);
  });
});

describe.skipIf(endpoint === '')('multipart upload through a counting proxy (moto)', () => {
  const client = inspectionClient(endpoint);
  let proxy: CountingProxy;
  let bucket = '';
  const transportThroughProxy = (options: S3TransportOptions = {}) =>
    s3Transport({ endpoint: proxy.url, credentials: TEST_CREDENTIALS, region: 'us-east-1', partSize, proxy: false, retryDelayMs: 50, ...options });

  beforeAll(async () => {
    const { port } = new URL(endpoint);
    proxy = await startCountingProxy({ host: '127.0.0.1', port: Number(port) });
    bucket = await freshBucket(client, 'multipart');
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('keeps at least two part uploads in flight at once, and sends each byte about once', async () => {
    proxy.reset();
    const data = seededBytes(6 * partSize + 1234, 1);
    const writer = await transportThroughProxy({ partsInFlight: 3 }).write(s3Location(bucket, 'overlap.bin'));
    await writeAll(writer.stream, data);
    await writer.commit();
    expect(proxy.maxConcurrentPartUploads).toBeGreaterThanOrEqual(2);
    expect(proxy.requests.filter((line) => line.startsWith('PUT ') && line.includes('partNumber='))).toHaveLength(7);
    expect(proxy.bytesUp).toBeLessThan(data.length * 1.01);
    expect(Buffer.compare(await objectBytes(bucket, 'overlap.bin'), data)).toBe(0);
  });

  it('sends a SHA-256 checksum with every part', async () => {
    proxy.reset();
    const data = seededBytes(2 * partSize + 10, 2);
    const writer = await transportThroughProxy().write(s3Location(bucket, 'checksummed.bin'));
    await writeAll(writer.stream, data);
    await writer.commit();
    // Headers travel in clear text over the proxy: every part request names its SHA-256.
    const partHeads = proxy.requestHeads.filter((head) => /^put \S+partnumber=/.test(head));
    expect(partHeads).toHaveLength(3);
    for (const head of partHeads) expect(head).toMatch(/\r\nx-amz-checksum-sha256: [a-z0-9+/=]{44}\r\n/);
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'checksummed.bin', ChecksumMode: 'ENABLED' }));
    const partDigests = [data.subarray(0, partSize), data.subarray(partSize, 2 * partSize), data.subarray(2 * partSize)].map((part) =>
      createHash('sha256').update(part).digest(),
    );
    const composite = createHash('sha256').update(Buffer.concat(partDigests)).digest('base64');
    expect(head.ChecksumSHA256?.replace(/-\d+$/, '')).toBe(composite);
    // SigV4's payload hash is given from the same digest (in hex), so it must match the part exactly.
    partHeads.forEach((partHead, index) => expect(partHead).toContain(`\r\nx-amz-content-sha256: ${partDigests[index]?.toString('hex')}\r\n`));
  });

  it('reuses part buffers: later parts carry their own bytes, not those of an earlier part', async () => {
    proxy.reset();
    // Nine parts through two slots: every buffer is filled several times over.
    const data = seededBytes(9 * partSize - 7, 9);
    const writer = await transportThroughProxy({ partsInFlight: 2 }).write(s3Location(bucket, 'recycled.bin'));
    await writeAll(writer.stream, data, 300 * 1024 + 3);
    await writer.commit();
    expect(Buffer.compare(await objectBytes(bucket, 'recycled.bin'), data)).toBe(0);
  });

  it('retries a part whose connection was cut, from the bytes it holds, and completes the object', async () => {
    proxy.reset();
    const data = seededBytes(4 * partSize, 3);
    const writer = await transportThroughProxy({ partsInFlight: 2 }).write(s3Location(bucket, 'retried.bin'));
    proxy.cutAfter(Math.floor(1.5 * partSize));
    const restored = setTimeout(() => proxy.restore(), 100);
    await writeAll(writer.stream, data);
    await writer.commit();
    clearTimeout(restored);
    expect(proxy.bytesUp).toBeGreaterThan(data.length);
    expect(Buffer.compare(await objectBytes(bucket, 'retried.bin'), data)).toBe(0);
  });

  it('leaves no object and no multipart upload after an abort mid-upload', async () => {
    const key = 'aborted.bin';
    const writer = await transportThroughProxy({ partsInFlight: 2 }).write(s3Location(bucket, key));
    const data = seededBytes(3 * partSize, 4);
    writer.stream.on('error', () => {});
    writer.stream.write(data);
    // Let the first parts reach the server before aborting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await unfinishedUploads(client, bucket, key)).toHaveLength(1);
    await writer.abort(new Error('test abort'));
    expect(await unfinishedUploads(client, bucket, key)).toEqual([]);
    await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({ name: 'NotFound' });
    await expect(writer.commit()).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });

  it('leaves no multipart upload when the upload fails and resume was not asked for', async () => {
    const key = 'failed.bin';
    const writer = await transportThroughProxy({ partsInFlight: 1, retries: 0 }).write(s3Location(bucket, key));
    proxy.cutAfter(partSize + partSize / 2);
    const failure = await writeAll(writer.stream, seededBytes(4 * partSize, 5)).then(() => undefined, (error: unknown) => error);
    expect(isBentoportError(failure, 'ERR_IO')).toBe(true);
    expect((failure as Error).message).toMatch(/^\[transport-s3\] PUT s3:\/\/multipart-[0-9a-f]+\/failed\.bin: /);
    proxy.restore();
    await writer.abort(failure);
    expect(await unfinishedUploads(client, bucket, key)).toEqual([]);
  });

  it('applies URL parameters as object settings and refuses unknown ones', async () => {
    const transport = transportThroughProxy();
    const location = s3Location(bucket, 'settings.bin', 'ContentType=application%2Fx-tar&cache_control=no-cache&StorageClass=STANDARD_IA');
    const writer = await transport.write(location);
    await writeAll(writer.stream, Buffer.from('settings'));
    await writer.commit();
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'settings.bin' }));
    expect(head).toMatchObject({ ContentType: 'application/x-tar', CacheControl: 'no-cache', StorageClass: 'STANDARD_IA' });
    await expect(transport.write(s3Location(bucket, 'x.bin', 'colour=blue'))).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringContaining("unknown parameter 'colour'"),
    });
  });

  it('reads the bucket, credentials and endpoint from the URL alone', async () => {
    const transport = s3Transport({ proxy: false, env: {} });
    const location = {
      ...s3Location(bucket, 'from-url.bin', `endpoint_url=${encodeURIComponent(proxy.url)}&region=us-east-1`),
      host: `${TEST_CREDENTIALS.accessKeyId}:${TEST_CREDENTIALS.secretAccessKey}@${bucket}`,
    };
    const writer = await transport.write(location);
    await writeAll(writer.stream, Buffer.from('from the URL'));
    await writer.commit();
    expect((await objectBytes(bucket, 'from-url.bin')).toString()).toBe('from the URL');
  });

  it('writes a small object with one PutObject only at commit', async () => {
    proxy.reset();
    const writer = await transportThroughProxy().write(s3Location(bucket, 'small.txt'));
    await writeAll(writer.stream, Buffer.from('small'));
    expect(proxy.requests.filter((line) => line.startsWith('PUT') || line.startsWith('POST'))).toEqual([]);
    await writer.commit();
    expect(proxy.requests.filter((line) => line.startsWith('PUT') || line.startsWith('POST'))).toHaveLength(1);
  });

  it('refuses a directory key with ERR_INVALID_TARGET', async () => {
    await expect(transportThroughProxy().write(s3Location(bucket, 'dir/'))).rejects.toMatchObject({ code: 'ERR_INVALID_TARGET' });
  });

  it('reports a missing bucket as ERR_NOT_FOUND with the operation and location in the message', async () => {
    const location = s3Location('no-such-bucket-bentoport', 'x.bin');
    await expect(transportThroughProxy().stat(location)).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
      message: expect.stringMatching(/^\[transport-s3\] HEAD s3:\/\/no-such-bucket-bentoport\/x\.bin: 404 Not Found/),
    });
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'present.bin', Body: 'x' }));
  });
});
