/**
 * The network rows of `pnpm bench` (BENCH_NETWORK, every transport by default): bentoport's
 * export to and import from a server on 127.0.0.1 (bench-servers.ts), each against the pipe that
 * does the same work with the server's usual client on the same server:
 *
 * - export: `tar cf - -C TREE . | tee /dev/fd/3 | UPLOAD` with fd 3 on `sha256sum` (archive,
 *   hash, transfer, as bentoport does);
 * - import: `DOWNLOAD | tee /dev/fd/3 | tar xf -` with fd 3 on `sha256sum` (transfer, hash,
 *   extract), reading bentoport's archive of the same round.
 *
 * Beside them, as less work, the client moving the made archive file alone. Ours and the
 * references take turns round by round, the order swapping every round.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { inTurn, summarize, timedCommand, timedWorker, type Sample } from './bench-measure.js';
import { shellQuote, startNetworkServer, type NetworkServer } from './bench-servers.js';
import type { BenchFormat, NetworkTransport } from './bench-settings.js';
import type { Row } from './bench-table.js';

/** The formats a tar pipe can reproduce, with GNU tar's flag and the archive's extension. */
export const NETWORK_FORMATS: Partial<Record<BenchFormat, { tarFlag: string; extension: string }>> = {
  tar: { tarFlag: '', extension: 'tar' },
  gz: { tarFlag: 'z', extension: 'tar.gz' },
  bz2: { tarFlag: 'j', extension: 'tar.bz2' },
  bento: { tarFlag: 'J', extension: 'bento' },
};

export interface NetworkBenchInput {
  scratch: string;
  home: string;
  tag: string;
  /** The reference tree (the bento with its models under models/), as tar archives it. */
  tree: string;
  layout: Row['layout'];
  transports: readonly NetworkTransport[];
  formats: readonly BenchFormat[];
  rounds: number;
}

interface NetworkReference {
  tool: string;
  operation: 'export' | 'import';
  work: string;
  command: string[];
}

/**
 * `{ SCRIPT; } 3>&1 | sha256sum`: the script tees its stream to fd 3, and sha256sum ends only
 * after every stage holding fd 3 has exited, so the run's end is the end of all of them.
 */
function hashedPipe(script: string): string[] {
  return ['bash', '-c', `set -euo pipefail; { ${script}; } 3>&1 | sha256sum > /dev/null`];
}

function referencesOf(server: NetworkServer, format: BenchFormat, paths: { tree: string; local: string; download: string; extractInto: string }): NetworkReference[] {
  const { tarFlag, extension } = NETWORK_FORMATS[format]!;
  const ours = `ours.${extension}`;
  return [
    {
      tool: `tar c${tarFlag}f - | tee | sha256sum + ${server.uploadClient ?? server.client}`,
      operation: 'export',
      work: 'same',
      command: hashedPipe(`tar c${tarFlag}f - -C ${shellQuote(paths.tree)} . | tee /dev/fd/3 | ${server.uploadStdin(`pipe.${extension}`)}`),
    },
    { ...server.put(paths.local, `file.${extension}`), operation: 'export', work: 'less: moves one file' },
    {
      tool: `${server.client} | tee | sha256sum + tar x${tarFlag}f -`,
      operation: 'import',
      work: 'same',
      command: hashedPipe(`mkdir -p ${shellQuote(paths.extractInto)}; ${server.downloadStdout(ours)} | tee /dev/fd/3 | tar x${tarFlag}f - -C ${shellQuote(paths.extractInto)} > /dev/null`),
    },
    { ...server.get(ours, paths.download), operation: 'import', work: 'less: moves one file' },
  ];
}

/** The rows of one format on one server: ours first, then its references, per operation. */
async function measureOnServer(server: NetworkServer, format: BenchFormat, input: NetworkBenchInput): Promise<Row[]> {
  const { extension } = NETWORK_FORMATS[format]!;
  const label = `${format} ${server.transport}`;
  console.log(`\n[${input.layout} ${label}: ${server.description}]`);
  const scratch = path.join(input.scratch, `net-${server.transport}`);
  await mkdir(scratch, { recursive: true });
  const paths = { tree: input.tree, local: path.join(scratch, `local.${extension}`), download: path.join(scratch, 'download'), extractInto: path.join(scratch, 'extract') };
  const references = referencesOf(server, format, paths);
  const url = server.url(`ours.${extension}`);
  const ours = { export: [] as Sample[], import: [] as Sample[] };
  const theirs = references.map((): Sample[] => []);
  const runReferences = async (operation: 'export' | 'import'): Promise<void> => {
    for (const [index, reference] of references.entries()) {
      if (reference.operation !== operation) continue;
      theirs[index]!.push(await timedCommand(reference.command, scratch));
      await rm(paths.extractInto, { recursive: true, force: true });
      await rm(paths.download, { force: true });
    }
  };
  let size: number | undefined;
  for (let round = 0; round < input.rounds; round++) {
    const oursFirst = round % 2 === 0;
    // Every upload writes a new file: one overwritten in place reuses the page-cache pages its old content freed.
    await server.clear();
    const exportOurs = async (): Promise<void> => {
      ours.export.push(await timedWorker(['export', input.home, input.tag, url, format], server.env));
      // Round 0 goes ours first: the made archive is then fetched for the file-moving references and the output size.
      if (size !== undefined) return;
      await timedCommand(['bash', '-c', `set -euo pipefail; ${server.downloadStdout(`ours.${extension}`)} > ${shellQuote(paths.local)}`], scratch);
      size = (await stat(paths.local)).size;
    };
    await inTurn(oursFirst, exportOurs, () => runReferences('export'));
    const freshHome = path.join(scratch, `import-${round}`);
    await inTurn(
      oursFirst,
      async () => {
        ours.import.push(await timedWorker(['import', freshHome, url, format], server.env));
        await rm(freshHome, { recursive: true, force: true });
      },
      () => runReferences('import'),
    );
    const last = (samples: Sample[] | undefined) => `${samples?.at(-1)?.seconds.toFixed(2)} s`;
    console.log(`  round ${round + 1}/${input.rounds}: export ${last(ours.export)}, import ${last(ours.import)}; ${references.map((reference, index) => `${reference.tool} ${last(theirs[index])}`).join(', ')}`);
  }
  await rm(scratch, { recursive: true, force: true });
  const referenceRows = references.map((reference, index): Row => ({ layout: input.layout, format: label, operation: reference.operation, tool: reference.tool, work: reference.work, ...summarize(theirs[index] ?? []), size, transport: server.transport }));
  const ourRow = (operation: 'export' | 'import'): Row => ({
    layout: input.layout,
    format: label,
    operation,
    tool: 'bentoport',
    work: 'ours',
    ...summarize(ours[operation]),
    transport: server.transport,
    reference: referenceRows.find((row) => row.operation === operation && row.work === 'same'),
  });
  return [ourRow('export'), ...referenceRows.filter((row) => row.operation === 'export'), ourRow('import'), ...referenceRows.filter((row) => row.operation === 'import')];
}

/** Every network row of one layout; a transport whose server cannot start is left out, and said so. */
export async function measureNetwork(input: NetworkBenchInput): Promise<Row[]> {
  const formats = input.formats.filter((format) => NETWORK_FORMATS[format] !== undefined);
  const rows: Row[] = [];
  for (const transport of input.transports) {
    let server: NetworkServer;
    try {
      server = await startNetworkServer(transport, input.scratch);
    } catch (error) {
      console.log(`\n(${transport} rows left out: ${error instanceof Error ? error.message : String(error)})`);
      continue;
    }
    try {
      for (const format of formats) rows.push(...(await measureOnServer(server, format, input)));
    } finally {
      await server.stop();
    }
  }
  return rows;
}
