/**
 * The README's "main job": a sample bento goes from store A to an archive to store B, first
 * through the library API, then through the built `bentoport` binary, and the trees must hash
 * equal. Exits non-zero if anything differs.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createBentoport, formatTag, type Bentoport } from '@bentoport/core';
import { tarFormat } from '@bentoport/format-tar';
import { zipFormat } from '@bentoport/format-zip';
import { fsTransport } from '@bentoport/transport-fs';
import { diffTrees, hashTree, makeScratchDir, removeScratchDirs, writeSampleBento, type SampleBento } from '@bentoport/test-utils';
import { humanSize } from './render.js';

const run = promisify(execFile);
const cliPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cli.js');

function open(home: string): Bentoport {
  return createBentoport({ home, formats: [tarFormat(), zipFormat()], transports: [fsTransport()] });
}

/** Differences between the sample in store A and what arrived in another store. */
async function compareStores(sample: SampleBento, target: Bentoport): Promise<string[]> {
  const problems: string[] = [];
  const bento = await target.getBento(sample.bentoTag);
  problems.push(...diffTrees(await hashTree(sample.bentoPath), await hashTree(bento.path)).map((line) => `bento ${line}`));
  for (const model of sample.models) {
    const imported = await target.getModel(model.tag);
    problems.push(...diffTrees(await hashTree(model.path), await hashTree(imported.path)).map((line) => `model ${model.tag} ${line}`));
  }
  return problems;
}

function report(label: string, problems: string[]): boolean {
  if (problems.length === 0) {
    console.log(`  trees:     bento and every model hash-equal to store A (content, modes, symlinks)`);
    return true;
  }
  console.log(`  ${label}: ${problems.length} difference(s):`);
  for (const line of problems.slice(0, 20)) console.log(`    ${line}`);
  return false;
}

async function demo(): Promise<boolean> {
  const started = Date.now();
  const scratch = await makeScratchDir('demo');
  const [homeA, homeB, homeC] = ['store-a', 'store-b', 'store-c'].map((name) => path.join(scratch, name)) as [string, string, string];
  const sample = await writeSampleBento(homeA, { models: 2, weightsBytes: 2 * 1024 * 1024, sourceFiles: 40 });
  console.log(`Sample bento ${sample.bentoTag}: ${sample.files} files, ${humanSize(sample.bytes)} with ${sample.models.length} models, in ${homeA}`);

  // 1. Library API.
  const archive = path.join(scratch, 'sample.tar.gz');
  const exported = await open(homeA).exportBento(sample.bentoTag, archive);
  const storeB = open(homeB);
  const imported = await storeB.importBento(archive);
  console.log('\nLibrary API (createBentoport):');
  console.log(`  exported:  ${exported.tag} -> ${exported.destination} (${exported.format})`);
  console.log(`  archive:   ${humanSize(exported.size)}, sha256 ${exported.sha256}`);
  console.log(`  imported:  ${formatTag(imported.item.tag)} into ${homeB}`);
  console.log(`  models:    ${imported.modelsImported.join(', ') || 'none'} imported${imported.modelsSkipped.length ? `, ${imported.modelsSkipped.join(', ')} kept` : ''}`);
  let ok = report('library round trip', await compareStores(sample, storeB));

  // 2. The built CLI binary.
  const cliArchive = path.join(scratch, 'cli.tar.gz');
  const cliExport = JSON.parse((await run(process.execPath, [cliPath, '--home', homeA, 'export', sample.bentoTag, cliArchive, '--json'])).stdout) as { sha256: string; size: number };
  const cliImport = JSON.parse((await run(process.execPath, [cliPath, '--home', homeC, 'import', cliArchive, '--json'])).stdout) as { tag: string; modelsImported: string[] };
  console.log('\nCLI (node dist/cli.js):');
  console.log(`  bentoport --home store-a export ${sample.bentoTag} cli.tar.gz: ${humanSize((await stat(cliArchive)).size)}, sha256 ${cliExport.sha256}`);
  console.log(`  bentoport --home store-c import cli.tar.gz: ${cliImport.tag}, models ${cliImport.modelsImported.join(', ')}`);
  console.log(`  same archive bytes as the library export: ${cliExport.sha256 === exported.sha256 ? 'yes (reproducible)' : 'no'}`);
  ok = report('CLI round trip', await compareStores(sample, open(homeC))) && ok;

  console.log(`\n${ok ? 'OK' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return ok;
}

try {
  process.exitCode = (await demo()) ? 0 : 1;
} catch (error) {
  console.error(`Demo failed: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env.BENTOPORT_DEBUG === '1') console.error(error);
  process.exitCode = 1;
} finally {
  await removeScratchDirs();
}
