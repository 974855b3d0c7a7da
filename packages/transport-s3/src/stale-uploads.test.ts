import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import type { ProgressEvent } from '@bentoport/spec';
import { startFaultProxy, startKilledWriter, type KilledWriter } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshBucket, inspectionClient, s3Location, TEST_CREDENTIALS, unfinishedUploads } from './moto-fixtures.js';
import { MiB } from './part-size.js';
import { s3Transport } from './s3-transport.js';

const endpoint = inject('motoEndpoint');
/** The built package, as the killed process (a user's export) runs it. */
const BUILT = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const partSize = 5 * MiB;

/** Poll `condition` every 50 ms, at most 20 s. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    if (await condition()) return;
    await sleep(50);
  }
  throw new Error('the condition did not come true within 20 s');
}

/**
 * The child: a write of `bytes` that fails (the test's proxy stops S3 mid-part), then the
 * caller's `abort`, as the CLI does before it exits; it prints how the write ended.
 */
const FAILING_WRITE_PROGRAM = `
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

/** Run {@link FAILING_WRITE_PROGRAM} to its end; its stdout. */
async function failingWrite(options: object, location: object, bytes: number): Promise<string> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', FAILING_WRITE_PROGRAM, pathToFileURL(BUILT).href, JSON.stringify(options), JSON.stringify(location), String(bytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return output;
}

describe.skipIf(endpoint === '')('multipart uploads of killed writes (moto)', () => {
  const client = inspectionClient(endpoint);
  let bucket = '';
  let stateDirectory = '';
  const options = () => ({ endpoint, credentials: TEST_CREDENTIALS, region: 'us-east-1', partSize, proxy: false as const, retryDelayMs: 50, env: { ...process.env, BENTOPORT_STATE_DIR: stateDirectory } });
  const records = async () => readdir(path.join(stateDirectory, 'leftovers')).catch(() => [] as string[]);

  beforeAll(async () => {
    bucket = await freshBucket(client, 'leftovers');
    stateDirectory = await mkdtemp(path.join(tmpdir(), 'bentoport-s3-state-'));
  });
  afterAll(() => rm(stateDirectory, { recursive: true, force: true }));

  /** A child that starts a multipart upload to `key`, once the upload is recorded and listed. */
  async function uploadingChild(key: string, writeOptions: { resume?: boolean } = {}): Promise<KilledWriter> {
    const before = (await unfinishedUploads(client, bucket, key)).length;
    const recordsBefore = (await records()).length;
    const child = await startKilledWriter({ module: BUILT, factory: 's3Transport', options: options(), location: s3Location(bucket, key), writeOptions, bytes: partSize + 1024 });
    await until(async () => (await unfinishedUploads(client, bucket, key)).length > before && (await records()).length > recordsBefore);
    return child;
  }

  async function writeSmall(key: string, writeOptions: { resume?: boolean } = {}, through = endpoint): Promise<string[]> {
    const notices: string[] = [];
    const onProgress = (event: ProgressEvent) => {
      if (event.type === 'notice') notices.push(event.message);
    };
    const writer = await s3Transport({ ...options(), endpoint: through }).write(s3Location(bucket, key), { ...writeOptions, onProgress });
    writer.stream.end('new bytes');
    await finished(writer.stream);
    await writer.commit();
    return notices;
  }

  it('are aborted by the next write to the same key, which says so; live and unrecorded ones stay', async () => {
    const key = 'svc.bento';
    const killed = await uploadingChild(key);
    const [killedUpload] = await unfinishedUploads(client, bucket, key);
    const live = await uploadingChild(key);
    // Another tool's upload to the same key: nothing says whose it is, so it is not ours to remove.
    const other = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const otherKey = await uploadingChild('other.bento');
    await killed.kill();
    await otherKey.kill();
    try {
      const beforeWrite = await unfinishedUploads(client, bucket, key);
      expect(beforeWrite).toHaveLength(3);

      const notices = await writeSmall(key);

      const left = await unfinishedUploads(client, bucket, key);
      expect(left).not.toContain(killedUpload);
      expect(left.sort()).toEqual(beforeWrite.filter((id) => id !== killedUpload).sort());
      expect(left).toContain(other.UploadId);
      expect(await unfinishedUploads(client, bucket, 'other.bento')).toHaveLength(1);
      expect(notices).toEqual([`[transport-s3] removed a stale leftover of an interrupted earlier run: unfinished multipart upload to s3://${bucket}/${key}`]);
    } finally {
      await live.kill();
    }
  });

  it('that a failed write could not abort (S3 refusing connections) are aborted by the next write to the key, which says so', async () => {
    const key = 'refused.bento';
    const proxy = await startFaultProxy({ targetPort: Number(new URL(endpoint).port) });
    try {
      // S3 restarts mid-part and refuses connections for longer than the write's retries last.
      proxy.inject({ kind: 'restart', afterBytes: partSize + MiB, direction: 'up', refuseForMs: 3_000 });
      const recordsBefore = await records();
      const through = `http://127.0.0.1:${proxy.port}`;
      const ended = await failingWrite({ ...options(), endpoint: through, retries: 1 }, s3Location(bucket, key), partSize + 2 * MiB);
      expect(ended).toMatch(/^failed: /);
      await proxy.ready();
      expect(await unfinishedUploads(client, bucket, key)).toHaveLength(1);
      expect(await records()).toHaveLength(recordsBefore.length + 1);

      // The next export to the same place, as the user runs it.
      const notices = await writeSmall(key, {}, through);

      expect(await unfinishedUploads(client, bucket, key)).toEqual([]);
      expect(notices).toContain(`[transport-s3] removed a stale leftover of an interrupted earlier run: unfinished multipart upload to s3://${bucket}/${key}`);
      expect((await records()).sort()).toEqual(recordsBefore.sort());
    } finally {
      await proxy.close();
    }
  });

  it('are continued, not removed, by a resume write', async () => {
    const key = 'resumed.bento';
    const killed = await uploadingChild(key);
    const [killedUpload] = await unfinishedUploads(client, bucket, key);
    await killed.kill();
    const writer = await s3Transport(options()).write(s3Location(bucket, key), { resume: true });
    expect((writer as unknown as { resumed: { uploadId: string } }).resumed.uploadId).toBe(killedUpload);
    await writer.abort();
  });

  it('of a resume write are kept for the next resume, not removed by a plain write', async () => {
    const key = 'kept.bento';
    const killed = await uploadingChild(key, { resume: true });
    const [kept] = await unfinishedUploads(client, bucket, key);
    await killed.kill();
    expect(await writeSmall(key)).toEqual([]);
    expect(await unfinishedUploads(client, bucket, key)).toEqual([kept]);
  });
});
