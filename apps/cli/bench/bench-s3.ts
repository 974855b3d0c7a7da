/**
 * The S3 rows of `pnpm bench` (BENCH_S3=1): bentoport's export (archive + compress + upload in one
 * stream) and import (download + extract) against a moto server started here, beside `aws s3 cp`
 * of the already-made archive up and down on the same server. The server and the aws CLI are
 * spawned here only: the product never does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

interface S3BenchSample {
  seconds: number;
  maxRssMiB: number | undefined;
  size: number | undefined;
}

interface S3BenchServer {
  endpoint: string;
  bucket: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * Start moto on a free port, create the bucket, and point this process's environment (inherited
 * by the workers and `aws`) at it with dummy credentials.
 */
async function startS3BenchServer(): Promise<S3BenchServer> {
  const port = await freePort();
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (!(await fetch(`${endpoint}/`).then((response) => response.ok, () => false))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error('moto (python3 -m moto.server) did not start: BENCH_S3=1 needs python3 with moto[server]');
    }
    await sleep(200);
  }
  const bucket = 'bentoport-bench';
  const created = await fetch(`${endpoint}/${bucket}`, { method: 'PUT' });
  if (!created.ok) throw new Error(`could not create the bench bucket: ${created.status}`);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  return {
    endpoint,
    bucket,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface S3Row {
  format: string;
  operation: 'export' | 'import';
  tool: string;
  seconds: number;
  maxRssMiB: number | undefined;
  size: number | undefined;
  reference?: S3Row;
}

export interface S3BenchInput {
  scratch: string;
  home: string;
  tag: string;
  /** Format tokens; those without a known extension are left out. */
  formats: readonly string[];
  runs: number;
  timedWorker(args: string[]): Promise<S3BenchSample>;
  timedCommand(command: string[], cwd: string): Promise<S3BenchSample>;
  summarize(samples: S3BenchSample[]): Pick<S3Row, 'seconds' | 'maxRssMiB' | 'size'>;
}

const EXTENSIONS: Record<string, string> = { tar: 'tar', gz: 'tar.gz', zip: 'zip', bento: 'bento', bz2: 'tar.bz2' };

/**
 * BENCH_S3=1: per format, bentoport's export to S3 (archive + compress + upload in one stream)
 * beside `aws s3 cp` uploading the archive bentoport already made, and bentoport's import from S3
 * beside `aws s3 cp` downloading it. Off (no rows, no checks) otherwise.
 */
export async function benchS3(input: S3BenchInput): Promise<{ rows: S3Row[]; checks: [string, boolean][] }> {
  if (process.env.BENCH_S3 !== '1') return { rows: [], checks: [] };
  const { scratch, home, tag, runs } = input;
  const server = await startS3BenchServer();
  const rows: S3Row[] = [];
  const checks: [string, boolean][] = [];
  try {
    for (const format of input.formats) {
      const extension = EXTENSIONS[format];
      if (extension === undefined) continue;
      console.log(`\n[${format} over S3 (moto ${server.endpoint})]`);
      const archive = path.join(scratch, `s3-local.${extension}`);
      await input.timedWorker(['export', home, tag, archive, format]);
      const ours = `s3://${server.bucket}/ours-${format}.${extension}`;
      const theirs = `s3://${server.bucket}/aws-${format}.${extension}`;
      const endpointArguments = ['--endpoint-url', server.endpoint];
      const samples = { ourExport: [] as S3BenchSample[], ourImport: [] as S3BenchSample[], awsUpload: [] as S3BenchSample[], awsDownload: [] as S3BenchSample[] };
      for (let round = 0; round < runs; round++) {
        samples.ourExport.push(await input.timedWorker(['export', home, tag, ours, format]));
        const freshHome = path.join(scratch, `s3-import-${round}`);
        samples.ourImport.push(await input.timedWorker(['import', freshHome, ours, format]));
        await rm(freshHome, { recursive: true, force: true });
        samples.awsUpload.push(await input.timedCommand(['aws', ...endpointArguments, 's3', 'cp', '--quiet', archive, theirs], scratch));
        const downloaded = path.join(scratch, `aws-download.${extension}`);
        samples.awsDownload.push(await input.timedCommand(['aws', ...endpointArguments, 's3', 'cp', '--quiet', theirs, downloaded], scratch));
        await rm(downloaded, { force: true });
        process.stdout.write(
          `  S3 run ${round + 1}/${runs}: bentoport export ${samples.ourExport.at(-1)?.seconds.toFixed(2)} s, import ${samples.ourImport.at(-1)?.seconds.toFixed(2)} s; ` +
            `aws s3 cp up ${samples.awsUpload.at(-1)?.seconds.toFixed(2)} s, down ${samples.awsDownload.at(-1)?.seconds.toFixed(2)} s\n`,
        );
      }
      await rm(archive, { force: true });
      const label = `${format} s3`;
      const upload: S3Row = { format: label, operation: 'export', tool: 'aws s3 cp (upload only)', ...input.summarize(samples.awsUpload) };
      const download: S3Row = { format: label, operation: 'import', tool: 'aws s3 cp (download only)', ...input.summarize(samples.awsDownload) };
      const ourExport: S3Row = { format: label, operation: 'export', tool: 'bentoport', ...input.summarize(samples.ourExport), reference: upload };
      const ourImport: S3Row = { format: label, operation: 'import', tool: 'bentoport', ...input.summarize(samples.ourImport), reference: download };
      rows.push(ourExport, upload, ourImport, download);
      // Peak RSS of every bentoport row is checked by bench.ts itself.
      checks.push([`${label} export ${ourExport.seconds.toFixed(2)} s <= aws s3 cp upload ${upload.seconds.toFixed(2)} s`, ourExport.seconds <= upload.seconds]);
    }
  } finally {
    await server.stop();
  }
  return { rows, checks };
}
