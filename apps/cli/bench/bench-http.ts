/**
 * The HTTP rows of `pnpm bench` (BENCH_HTTP=1): bentoport's export to and import from an nginx
 * WebDAV server on 127.0.0.1, beside curl on the same server and the same archive. The headline
 * references do the same work as bentoport (archive, hash and transfer: `tar c | tee >(sha256sum)
 * | curl -T -`; `curl | tee >(sha256sum) | tar x`); `curl -T` and `curl -o` of the made archive
 * are shown beside them as less work. nginx and curl are spawned here only: the product never does.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

interface Sample {
  seconds: number;
  maxRssMiB: number | undefined;
  size: number | undefined;
}

interface HttpRow {
  format: string;
  operation: 'export' | 'import';
  tool: string;
  seconds: number;
  maxRssMiB: number | undefined;
  size: number | undefined;
  /** `ours`, `same` (the same work as bentoport), or what the reference leaves out. */
  work: string;
  reference?: HttpRow;
}

export interface HttpBenchInput {
  scratch: string;
  home: string;
  tag: string;
  /** The reference tree (the bento with its models under models/), as tar archives it. */
  tree: string;
  /** Format tokens; those without a known extension are left out. */
  formats: readonly string[];
  runs: number;
  timedWorker(args: string[]): Promise<Sample>;
  timedCommand(command: string[], cwd: string): Promise<Sample>;
  summarize(samples: Sample[]): Pick<HttpRow, 'seconds' | 'maxRssMiB' | 'size'>;
}

const DAV_MODULE = '/usr/lib/nginx/modules/ngx_http_dav_ext_module.so';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMilliseconds: number): Promise<void> {
  const deadline = Date.now() + timeoutMilliseconds;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port} within ${timeoutMilliseconds} ms`);
    await sleep(50);
  }
}

async function startNginx(directory: string): Promise<{ port: number; root: string; stop: () => Promise<void> }> {
  const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((candidate) => existsSync(candidate));
  if (nginx === undefined) throw new Error('nginx is not installed (apt-get install -y nginx libnginx-mod-http-dav-ext)');
  const root = path.join(directory, 'root');
  await mkdir(root, { recursive: true });
  await mkdir(path.join(directory, 'body-temp'));
  const port = await freePort();
  const module = existsSync(DAV_MODULE) ? `load_module ${DAV_MODULE};\n` : '';
  const davExtension = module === '' ? '' : 'dav_ext_methods PROPFIND OPTIONS;';
  await writeFile(
    path.join(directory, 'nginx.conf'),
    `${module}user root;\ndaemon off;\nworker_processes 1;\npid ${directory}/nginx.pid;\nerror_log ${directory}/error.log;\n` +
      `events { worker_connections 64; }\nhttp {\n  access_log off;\n  sendfile on;\n  client_body_temp_path ${directory}/body-temp;\n` +
      `  server {\n    listen 127.0.0.1:${port};\n    root ${root};\n    client_max_body_size 0;\n` +
      `    location / { dav_methods PUT DELETE MKCOL COPY MOVE; ${davExtension} }\n  }\n}\n`,
  );
  const child = spawn(nginx, ['-c', path.join(directory, 'nginx.conf')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, 10_000);
  return {
    port,
    root,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

/** Median-run rows for every format; the targets (speed against the same-work pipe, RSS) are checked in bench-targets.ts. */
export async function benchHttp(input: HttpBenchInput): Promise<{ rows: HttpRow[]; checks: [string, boolean][] }> {
  const { scratch, home, tag, tree, formats, runs, timedWorker, timedCommand, summarize } = input;
  const server = await startNginx(path.join(scratch, 'nginx'));
  const rows: HttpRow[] = [];
  const checks: [string, boolean][] = [];
  const extension: Record<string, string> = { tar: 'tar', gz: 'tar.gz', zip: 'zip', bz2: 'tar.bz2', bento: 'bento' };
  /** GNU tar's compression flag per format (zip has no tar pipeline). */
  const tarFlags: Record<string, string> = { tar: '', gz: 'z', bz2: 'j', bento: 'J' };
  const base = `http://127.0.0.1:${server.port}`;
  try {
    for (const format of formats.filter((candidate) => extension[candidate] !== undefined)) {
      console.log(`\n[${format} over HTTP: nginx WebDAV on 127.0.0.1:${server.port}]`);
      const name = `ours.${extension[format]}`;
      const url = `${base}/${name}`;
      const local = path.join(scratch, `http-${name}`);
      const tarFlag = tarFlags[format];
      const extractInto = path.join(scratch, 'http-extract');
      const download = path.join(scratch, 'http-download');
      // The pipes do our whole job: archive, hash (fd 3 on sha256sum, which ends only after every
      // stage that holds fd 3) and transfer. `curl -T` / `curl -o` move the made archive only.
      const hashedPipe = (script: string, ...args: string[]): string[] => ['bash', '-c', `set -euo pipefail; { ${script}; } 3>&1 | sha256sum > /dev/null`, 'bash', ...args];
      const references: { tool: string; operation: 'export' | 'import'; command: string[]; work: string }[] = [];
      if (tarFlag !== undefined) {
        references.push({
          tool: `tar c${tarFlag}f - | tee | sha256sum + curl -T -`,
          operation: 'export',
          command: hashedPipe(`tar c${tarFlag}f - -C "$1" . | tee /dev/fd/3 | curl -sS -f -T - "$2" > /dev/null`, tree, `${base}/piped.${extension[format]}`),
          work: 'same',
        });
      }
      references.push({ tool: 'curl -T file', operation: 'export', command: ['curl', '-sS', '-f', '-T', local, `${base}/curl.${extension[format]}`], work: 'less: moves one file' });
      if (tarFlag !== undefined) {
        references.push({
          tool: `curl | tee | sha256sum + tar x${tarFlag}f -`,
          operation: 'import',
          command: hashedPipe(`mkdir -p "$2"; curl -sS -f "$1" | tee /dev/fd/3 | tar x${tarFlag}f - -C "$2" > /dev/null`, url, extractInto),
          work: 'same',
        });
      }
      references.push({ tool: 'curl -o file', operation: 'import', command: ['curl', '-sS', '-f', '-o', download, url], work: 'less: moves one file' });

      // Ours and the references take turns in every round, as in the FTP and SFTP rows, so a
      // machine that speeds up or slows down during the bench weighs on both alike.
      const ourExport: Sample[] = [];
      const ourImport: Sample[] = [];
      const referenceSamples: Sample[][] = references.map(() => []);
      let size = 0;
      const runReferences = async (operation: 'export' | 'import'): Promise<void> => {
        for (const [index, reference] of references.entries()) {
          if (reference.operation !== operation) continue;
          referenceSamples[index]!.push(await timedCommand(reference.command, scratch));
          await rm(extractInto, { recursive: true, force: true });
          await rm(download, { force: true });
        }
      };
      for (let round = 0; round < runs; round++) {
        await rm(path.join(server.root, name), { force: true });
        ourExport.push(await timedWorker(['export', home, tag, url, format]));
        if (round === 0) {
          await timedCommand(['curl', '-sS', '-f', '-o', local, url], scratch);
          size = (await stat(local)).size;
        }
        await runReferences('export');
        const freshHome = path.join(scratch, `http-import-${round}`);
        ourImport.push(await timedWorker(['import', freshHome, url, format]));
        await rm(freshHome, { recursive: true, force: true });
        await runReferences('import');
        const last = (index: number): string => `${references[index]!.tool} ${referenceSamples[index]!.at(-1)?.seconds.toFixed(2)} s`;
        console.log(
          `  run ${round + 1}/${runs}: export ${ourExport.at(-1)?.seconds.toFixed(2)} s (${references.map((reference, index) => (reference.operation === 'export' ? last(index) : '')).filter(Boolean).join(', ')}), ` +
            `import ${ourImport.at(-1)?.seconds.toFixed(2)} s (${references.map((reference, index) => (reference.operation === 'import' ? last(index) : '')).filter(Boolean).join(', ')})`,
        );
      }
      const referenceRows: HttpRow[] = references.map((reference, index) => ({
        format,
        operation: reference.operation,
        tool: reference.tool,
        work: reference.work,
        ...summarize(referenceSamples[index] ?? []),
        size,
      }));
      // The same-work pipe where tar can build one (not zip), else the transfer alone.
      const primary = (operation: 'export' | 'import') =>
        referenceRows.find((row) => row.operation === operation && row.work === 'same') ?? referenceRows.find((row) => row.operation === operation);
      const exportRow: HttpRow = { format, operation: 'export', tool: 'bentoport http', work: 'ours', ...summarize(ourExport), reference: primary('export') };
      const importRow: HttpRow = { format, operation: 'import', tool: 'bentoport http', work: 'ours', ...summarize(ourImport), reference: primary('import') };
      rows.push(exportRow, ...referenceRows.filter((row) => row.operation === 'export'));
      rows.push(importRow, ...referenceRows.filter((row) => row.operation === 'import'));
      await rm(local, { force: true });
      await rm(path.join(server.root), { recursive: true, force: true });
      await mkdir(server.root);
    }
  } finally {
    await server.stop();
  }
  return { rows, checks };
}
