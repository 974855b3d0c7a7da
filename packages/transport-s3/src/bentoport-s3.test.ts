import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { createBentoport, isBentoportError } from '@bentoport/core';
import { tarFormat } from '@bentoport/format-tar';
import { commandSucceeds, hashTree, makeScratchDir, removeScratchDirs, writeSampleBento, type SampleBento } from '@bentoport/test-utils';
import { fsTransport } from '@bentoport/transport-fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCountingProxy, type CountingProxy } from './counting-proxy.js';
import { freshBucket, inspectionClient, TEST_CREDENTIALS, unfinishedUploads } from './moto-fixtures.js';
import { s3Transport, type S3TransportOptions } from './s3-transport.js';

const run = promisify(execFile);
const endpoint = inject('motoEndpoint');
const MiB = 1024 * 1024;
const awsCli = commandSucceeds('aws', ['--version']);
if (!awsCli && process.env.CI === 'true') throw new Error('CI=true and the aws CLI is not installed (apt-get install -y awscli)');
const cliPath = fileURLToPath(new URL('../../../apps/cli/dist/cli.js', import.meta.url));

/** The environment of a child that knows nothing but the endpoint and dummy credentials. */
function s3Environment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AWS_|HTTPS?_PROXY$|https?_proxy$|ALL_PROXY$|all_proxy$|NO_PROXY$|no_proxy$)/.test(name)));
  return {
    ...base,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL: endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

describe.skipIf(endpoint === '')('bentoport through S3 (moto)', () => {
  const client = inspectionClient(endpoint);
  let bucket = '';
  let sample: SampleBento;
  let home = '';
  const transport = (options: S3TransportOptions = {}) =>
    s3Transport({ endpoint, credentials: TEST_CREDENTIALS, region: 'us-east-1', partSize: 5 * MiB, proxy: false, ...options });
  const bentoportAt = (storeHome: string, options: S3TransportOptions = {}) =>
    createBentoport({ home: storeHome, formats: [tarFormat()], transports: [fsTransport(), transport(options)] });

  beforeAll(async () => {
    bucket = await freshBucket(client, 'bentos');
    home = await makeScratchDir('s3-source');
    // Over two 5 MiB parts, so the upload is multipart and the download ranged.
    sample = await writeSampleBento(home, { weightsBytes: 12 * MiB, sourceFiles: 30 });
  });
  afterAll(removeScratchDirs);

  it('exports a bento to s3://bucket/dir/ with its checksum file and imports it back, byte for byte', async () => {
    const [name, version] = sample.bentoTag.split(':') as [string, string];
    const exported = await bentoportAt(home).exportBento(sample.bentoTag, `s3://${bucket}/dir/`, 'gz', { checksumFile: true });
    expect(exported.destination).toBe(`s3://${bucket}/dir/${name}-${version}.gz`);
    expect(exported.checksumFile).toBe(`s3://${bucket}/dir/${name}-${version}.gz.sha256`);
    const sidecar = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `dir/${name}-${version}.gz.sha256` }));
    expect(await sidecar.Body!.transformToString()).toBe(`${exported.sha256}  ${name}-${version}.gz\n`);

    const target = await makeScratchDir('s3-target');
    const imported = await bentoportAt(target, { rangeSize: MiB }).importBento(exported.destination);
    expect(imported.sha256).toBe(exported.sha256);
    expect(imported.verifiedAgainst).toBe('checksum-file');
    expect(await hashTree(imported.item.path)).toEqual(await hashTree(sample.bentoPath));
  });

  it.skipIf(!awsCli)('interoperates with the aws CLI both ways', async () => {
    const scratch = await makeScratchDir('s3-aws');
    const environment = s3Environment({ AWS_DEFAULT_REGION: 'us-east-1' });
    // bentoport → S3 → aws s3 cp: the same bytes, and a tar that Python reads.
    const exported = await bentoportAt(home).exportBento(sample.bentoTag, `s3://${bucket}/interop/ours.tar`, 'tar');
    const downloaded = path.join(scratch, 'downloaded.tar');
    await run('aws', ['--endpoint-url', endpoint, 's3', 'cp', `s3://${bucket}/interop/ours.tar`, downloaded], { env: environment });
    expect(await sha256File(downloaded)).toBe(exported.sha256);
    const listed = await run('python3', ['-c', 'import sys, tarfile; print(len(tarfile.open(sys.argv[1]).getnames()))', downloaded]);
    expect(Number(listed.stdout.trim())).toBeGreaterThan(30);

    // aws s3 cp → S3 → bentoport import (multipart upload by the CLI: 8 MiB parts).
    const local = path.join(scratch, 'local.tar.gz');
    const made = await bentoportAt(home).exportBento(sample.bentoTag, local, 'gz');
    await run('aws', ['--endpoint-url', endpoint, 's3', 'cp', local, `s3://${bucket}/interop/theirs.tar.gz`], { env: environment });
    const target = await makeScratchDir('s3-aws-target');
    const imported = await bentoportAt(target).importBento(`s3://${bucket}/interop/theirs.tar.gz`);
    expect(imported.sha256).toBe(made.sha256);
    expect(await hashTree(imported.item.path)).toEqual(await hashTree(sample.bentoPath));
  });

  it.skipIf(!existsSync(cliPath))('the CLI exports to s3://bucket/dir/ and imports back with nothing but AWS_ENDPOINT_URL and credentials', async () => {
    const [name, version] = sample.bentoTag.split(':') as [string, string];
    const environment = s3Environment();
    const exported = await run(process.execPath, [cliPath, '--home', home, 'export', `${name}:latest`, `s3://${bucket}/cli/`, '--json'], { env: environment });
    const result = JSON.parse(exported.stdout) as { destination: string; sha256: string };
    expect(result.destination).toBe(`s3://${bucket}/cli/${name}-${version}.bento`);
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: `cli/${name}-${version}.bento` }));
    expect(head.ContentLength).toBeGreaterThan(0);
    const target = await makeScratchDir('s3-cli-target');
    const imported = await run(process.execPath, [cliPath, '--home', target, 'import', result.destination, '--json'], { env: environment });
    expect(JSON.parse(imported.stdout)).toMatchObject({ sha256: result.sha256 });
    expect(await hashTree(path.join(target, 'bentos', name, version))).toEqual(await hashTree(sample.bentoPath));
  });
});

describe.skipIf(endpoint === '')('resuming an interrupted upload (moto, counting proxy)', () => {
  const client = inspectionClient(endpoint);
  let proxy: CountingProxy;
  let bucket = '';
  let home = '';
  let sample: SampleBento;
  const bentoportThroughProxy = (options: S3TransportOptions) =>
    createBentoport({
      home,
      formats: [tarFormat()],
      transports: [s3Transport({ endpoint: proxy.url, credentials: TEST_CREDENTIALS, region: 'us-east-1', partSize: 5 * MiB, proxy: false, ...options })],
    });

  beforeAll(async () => {
    const { port } = new URL(endpoint);
    proxy = await startCountingProxy({ host: '127.0.0.1', port: Number(port) });
    bucket = await freshBucket(client, 'resume');
    home = await makeScratchDir('s3-resume');
    sample = await writeSampleBento(home, { weightsBytes: 120 * MiB, sourceFiles: 20 });
  });
  afterAll(async () => {
    await proxy.close();
    await removeScratchDirs();
  });

  it('continues after a connection cut mid-upload, re-sending under 5% of the bytes', async () => {
    const target = `s3://${bucket}/resumed.tar`;
    proxy.reset();
    // One part in flight, so what the cut wastes is at most one 5 MiB part.
    proxy.cutAfter(50 * MiB);
    const failure = await bentoportThroughProxy({ partsInFlight: 1, retries: 0 })
      .exportBento(sample.bentoTag, target, 'tar', { resume: true })
      .then(() => undefined, (error: unknown) => error);
    expect(isBentoportError(failure)).toBe(true);
    const firstRun = proxy.bytesUp;
    // The failed run kept its multipart upload for the resume, and nothing is visible yet.
    expect(await unfinishedUploads(client, bucket, 'resumed.tar')).toHaveLength(1);
    await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'resumed.tar' }))).rejects.toMatchObject({ name: 'NotFound' });

    proxy.restore();
    const resumed = await bentoportThroughProxy({ partsInFlight: 1 }).exportBento(sample.bentoTag, target, 'tar', { resume: true });
    const total = proxy.bytesUp;
    const resent = total - resumed.size;
    expect(firstRun).toBeGreaterThan(40 * MiB);
    expect(resent / resumed.size).toBeLessThan(0.05);
    expect(await unfinishedUploads(client, bucket, 'resumed.tar')).toEqual([]);
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'resumed.tar' }));
    const digest = createHash('sha256').update(await object.Body!.transformToByteArray()).digest('hex');
    expect(digest).toBe(resumed.sha256);
  });
});
