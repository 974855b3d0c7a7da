import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ProgressEvent } from '@bentoport/spec';
import { startFaultProxy, type FaultProxy } from '@bentoport/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshBucket, inspectionClient, s3Location, TEST_CREDENTIALS, unfinishedUploads } from './moto-fixtures.js';
import { MiB } from './part-size.js';
import { s3Transport } from './s3-transport.js';

const endpoint = inject('motoEndpoint');
const BUILT = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const partSize = 5 * MiB;
/** Bytes from S3 after which the fault lands: inside CreateMultipartUpload's answer, the first one a fresh write gets. */
const INSIDE_THE_CREATE_ANSWER = 100;

/** A write that ends as the CLI's does: commit, or abort after a failure; its outcome on stdout. */
const WRITE_PROGRAM = `
const [modulePath, optionsJson, locationJson, bytes] = process.argv.slice(1);
const { s3Transport } = await import(modulePath);
const { finished } = await import('node:stream/promises');
const writer = await s3Transport(JSON.parse(optionsJson)).write(JSON.parse(locationJson), {});
try {
  writer.stream.end(Buffer.alloc(Number(bytes), 7));
  await finished(writer.stream);
  await writer.commit();
  process.stdout.write('committed');
} catch (error) {
  await writer.abort();
  process.stdout.write('failed: ' + error.message);
}
`;

/** Run {@link WRITE_PROGRAM} in a process of its own (its journal records outlive it); its stdout. */
async function writeInChild(options: object, location: object, bytes: number): Promise<string> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', WRITE_PROGRAM, pathToFileURL(BUILT).href, JSON.stringify(options), JSON.stringify(location), String(bytes)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return output;
}

describe.skipIf(endpoint === '')('a CreateMultipartUpload whose answer is lost (moto)', () => {
  const client = inspectionClient(endpoint);
  let bucket = '';
  let stateDirectory = '';
  let proxy: FaultProxy;
  const through = () => `http://127.0.0.1:${proxy.port}`;
  const options = (more: object = {}) => ({
    endpoint: through(),
    credentials: TEST_CREDENTIALS,
    region: 'us-east-1',
    partSize,
    proxy: false as const,
    retryDelayMs: 50,
    env: { ...process.env, BENTOPORT_STATE_DIR: stateDirectory },
    ...more,
  });
  const records = async () => readdir(path.join(stateDirectory, 'leftovers')).catch(() => [] as string[]);

  beforeAll(async () => {
    bucket = await freshBucket(client, 'lost-create');
    stateDirectory = await mkdtemp(path.join(tmpdir(), 'bentoport-s3-state-'));
    proxy = await startFaultProxy({ targetPort: Number(new URL(endpoint).port) });
  });
  afterEach(async () => {
    proxy.reset();
    await proxy.ready();
  });
  afterAll(async () => {
    await proxy.close();
    await rm(stateDirectory, { recursive: true, force: true });
  });

  it('cut off and retried: the committed write leaves no second upload at the key', async () => {
    const key = 'truncated.bento';
    proxy.inject({ kind: 'truncate', afterBytes: INSIDE_THE_CREATE_ANSWER, direction: 'down' });
    const writer = await s3Transport(options()).write(s3Location(bucket, key), {});
    writer.stream.end(Buffer.alloc(partSize + 1024, 7));
    await finished(writer.stream);
    await writer.commit();

    expect(proxy.faults).toBe(1);
    expect(await unfinishedUploads(client, bucket, key)).toEqual([]);
    expect(await records()).toEqual([]);
  });

  it('as S3 restarts: the failed write removes the upload once S3 is back', async () => {
    const key = 'restarted.bento';
    // Refused for longer than the write's one retry waits, not for as long as its cleanup does.
    proxy.inject({ kind: 'restart', afterBytes: INSIDE_THE_CREATE_ANSWER, direction: 'down', refuseForMs: 1_200 });
    const ended = await writeInChild(options({ retries: 1, retryDelayMs: 400 }), s3Location(bucket, key), partSize + 1024);

    expect(ended).toMatch(/^failed: .*ECONNREFUSED/);
    expect(await unfinishedUploads(client, bucket, key)).toEqual([]);
    expect(await records()).toEqual([]);
  });

  it('as S3 restarts for longer than the failed write waits: the next write to the key removes the upload and says so', async () => {
    const key = 'restarted-long.bento';
    proxy.inject({ kind: 'restart', afterBytes: INSIDE_THE_CREATE_ANSWER, direction: 'down', refuseForMs: 3_000 });
    const ended = await writeInChild(options({ retries: 0 }), s3Location(bucket, key), partSize + 1024);
    expect(ended).toMatch(/^failed: .*ECONN(RESET|REFUSED)/);
    await proxy.ready();
    expect(await unfinishedUploads(client, bucket, key)).toHaveLength(1);
    expect(await records()).toHaveLength(1);

    const notices: string[] = [];
    const writer = await s3Transport(options()).write(s3Location(bucket, key), {
      onProgress: (event: ProgressEvent) => {
        if (event.type === 'notice') notices.push(event.message);
      },
    });
    writer.stream.end('new bytes');
    await finished(writer.stream);
    await writer.commit();

    expect(await unfinishedUploads(client, bucket, key)).toEqual([]);
    expect(notices).toEqual([`[transport-s3] removed a stale leftover of an interrupted earlier run: unfinished multipart upload to s3://${bucket}/${key}`]);
    expect(await records()).toEqual([]);
  });
});
