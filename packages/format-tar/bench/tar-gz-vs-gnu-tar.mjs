// Times `gz` export of a generated mixed bento-like tree against GNU `tar czf` (single-core
// gzip -6) and compares the sizes. Run after `pnpm build`: `node bench/tar-gz-vs-gnu-tar.mjs [MiB]`.
// The tree is generated from a seed: a float32 weights file (about 3/4 of the bytes) plus
// thousands of small text files.
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { tarFormat } from '../dist/index.js';

const totalMiB = Number(process.argv[2] ?? 200);

function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

async function generate(root) {
  const random = seededRandom(42);
  await mkdir(join(root, 'models', 'net', 'v1'), { recursive: true });
  // Weights: roughly normal values of small magnitude, as trained float32 tensors look.
  const weightBytes = Math.floor(totalMiB * 0.75) * 1024 * 1024;
  const weights = Buffer.alloc(weightBytes);
  const floats = new Float32Array(weights.buffer, weights.byteOffset, weightBytes / 4);
  for (let index = 0; index < floats.length; index++) floats[index] = (random() + random() + random() - 1.5) * 0.05;
  await writeFile(join(root, 'models', 'net', 'v1', 'weights.bin'), weights);
  // Small text files: source, configs, vendored packages.
  const words = ['import', 'def', 'return', 'self', 'bentoml', 'model', 'tensor', 'batch', 'service', 'api', '=', '(', ')', ':', '\n    ', '\n'];
  let remaining = totalMiB * 1024 * 1024 - weightBytes;
  for (let index = 0; remaining > 0; index++) {
    const directory = join(root, 'env', 'python', 'site-packages', `pkg${index % 97}`, `mod${index % 13}`);
    await mkdir(directory, { recursive: true });
    const size = Math.min(remaining, 2000 + Math.floor(random() * 30_000));
    const parts = [];
    let length = 0;
    while (length < size) {
      const word = `${words[Math.floor(random() * words.length)]} `;
      parts.push(word.repeat(1 + Math.floor(random() * 2)));
      length += parts[parts.length - 1].length;
    }
    await writeFile(join(directory, `file${index}.py`), parts.join('').slice(0, size));
    remaining -= size;
  }
}

async function* entriesFromDirectory(root, relative = '') {
  for (const name of (await readdir(join(root, relative))).sort()) {
    const path = relative === '' ? name : `${relative}/${name}`;
    const stats = await lstat(join(root, path));
    const common = { path, mode: stats.mode & 0o7777, mtime: stats.mtimeMs / 1000, size: 0 };
    if (stats.isDirectory()) {
      yield { ...common, type: 'directory' };
      yield* entriesFromDirectory(root, path);
    } else if (stats.isSymbolicLink()) {
      yield { ...common, type: 'symlink', linkTarget: await readlink(join(root, path)) };
    } else {
      yield { ...common, type: 'file', size: stats.size, open: () => createReadStream(join(root, path), { highWaterMark: 1024 * 1024 }) };
    }
  }
}

async function timed(label, action) {
  const start = process.hrtime.bigint();
  await action();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { label, seconds };
}

const work = await mkdtemp(join(tmpdir(), 'format-tar-bench-'));
try {
  const root = join(work, 'bento');
  await mkdir(root);
  await generate(root);
  spawnSync('sync');
  // Warm the page cache so that both sides read from memory.
  spawnSync('tar', ['cf', '/dev/null', '-C', root, '.']);

  const gnuArchive = join(work, 'gnu.tar.gz');
  const ourArchive = join(work, 'ours.tar.gz');
  const results = [];
  for (let round = 0; round < 2; round++) {
    results.push(await timed('GNU tar czf', async () => {
      const result = spawnSync('tar', ['czf', gnuArchive, '-C', root, '.']);
      if (result.status !== 0) throw new Error(result.stderr.toString());
    }));
    results.push(await timed('format-tar gz (auto)', () =>
      pipeline(tarFormat().encode(entriesFromDirectory(root), { format: 'gz' }), createWriteStream(ourArchive)),
    ));
  }
  const check = spawnSync('gzip', ['-t', ourArchive]);
  const gnuSize = (await stat(gnuArchive)).size;
  const ourSize = (await stat(ourArchive)).size;
  const best = (label) => Math.min(...results.filter((result) => result.label === label).map((result) => result.seconds));
  const gnuSeconds = best('GNU tar czf');
  const ourSeconds = best('format-tar gz (auto)');
  console.log(`tree: ${totalMiB} MiB (75% float32 weights, the rest small text files)`);
  console.log(`GNU tar czf:          ${gnuSeconds.toFixed(2)} s, ${gnuSize} bytes`);
  console.log(`format-tar gz (auto): ${ourSeconds.toFixed(2)} s, ${ourSize} bytes, gzip -t ${check.status === 0 ? 'ok' : 'FAILED'}`);
  console.log(`speed-up ${(gnuSeconds / ourSeconds).toFixed(2)}x, size ratio ${(ourSize / gnuSize).toFixed(4)}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
