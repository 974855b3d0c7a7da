import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createBentoport } from '@bentoport/core';
import { tarFormat } from '@bentoport/format-tar';
import { hashTree, makeScratchDir, python, writeSampleBento } from '@bentoport/test-utils';
import { fsTransport } from '@bentoport/transport-fs';
import { describe, expect, it, vi } from 'vitest';
import { bz2Format } from './index.js';

/** Worker threads this process runs right now, as Node's diagnostic report lists them. */
function runningWorkers(): number {
  return (process.report.getReport() as { workers: unknown[] }).workers.length;
}

function bentoportAt(home: string) {
  return createBentoport({ home, formats: [bz2Format(), tarFormat()], transports: [fsTransport()] });
}

/** About 1.6 MB of tar: three bzip2 blocks. */
async function sampleHome(root: string) {
  const home = path.join(root, 'home');
  const sample = await writeSampleBento(home, { models: 1, weightsBytes: 1024 * 1024, sourceFiles: 40 });
  return { home, sample };
}

async function expectedTree(root: string, sample: Awaited<ReturnType<typeof writeSampleBento>>): Promise<string> {
  const tree = path.join(root, 'expected');
  await cp(sample.bentoPath, tree, { recursive: true, verbatimSymlinks: true });
  for (const model of sample.models) {
    const [name, version] = model.tag.split(':') as [string, string];
    await mkdir(path.join(tree, 'models', name), { recursive: true });
    await cp(model.path, path.join(tree, 'models', name, version), { recursive: true, verbatimSymlinks: true });
    await writeFile(path.join(tree, 'models', name, 'latest'), version);
  }
  return tree;
}

describe('format-bz2: .tar.bz2 archives', () => {
  it('writes one multi-block bzip2 stream that passes bzip2 -t, unpacks with Python tarfile r:bz2 and r|bz2, and imports back', async () => {
    const root = await makeScratchDir('bz2-round-trip');
    const { home, sample } = await sampleHome(root);
    const result = await bentoportAt(home).exportBento(sample.bentoTag, path.join(root, 'out.tar.bz2'));
    expect(result.format).toBe('bz2');
    execFileSync('bzip2', ['-t', result.destination]);
    // One stream: Python's bz2 decompressor stops at the end of the first one, leaving the rest unused.
    const streams = await python(
      'import bz2, sys\nd = bz2.BZ2Decompressor(); d.decompress(open(sys.argv[1], "rb").read()); print(d.eof, len(d.unused_data))',
      [result.destination],
    );
    expect(streams.trim()).toBe('True 0');

    const expected = await hashTree(await expectedTree(root, sample));
    for (const mode of ['r:bz2', 'r|bz2']) {
      const target = path.join(root, mode.replace(/\W/g, '_'));
      await python('import tarfile, sys\nwith tarfile.open(sys.argv[1], sys.argv[3]) as t: t.extractall(sys.argv[2])', [result.destination, target, mode]);
      expect(await hashTree(target)).toEqual(expected);
    }
    const imported = await bentoportAt(path.join(root, 'empty')).importBento(result.destination);
    expect(imported.modelsImported).toEqual(sample.models.map((model) => model.tag));
    expect(await hashTree(imported.item.path)).toEqual(await hashTree(sample.bentoPath));
  });

  it('is reproducible, and every policy writes the same bytes', async () => {
    const root = await makeScratchDir('bz2-reproducible');
    const { home, sample } = await sampleHome(root);
    const bentoport = bentoportAt(home);
    const digests = new Set<string>();
    for (const compression of ['auto', 'max', 'store'] as const) {
      digests.add((await bentoport.exportBento(sample.bentoTag, path.join(root, `${compression}.tar.bz2`), undefined, { compression })).sha256);
    }
    expect(digests.size).toBe(1);
  });

  it('reads concatenated bzip2 streams (what pbzip2 writes)', async () => {
    const root = await makeScratchDir('bz2-multistream');
    const { home, sample } = await sampleHome(root);
    const tar = await readFile((await bentoportAt(home).exportBento(sample.bentoTag, path.join(root, 'plain.tar'))).destination);
    const cut = Math.floor(tar.length / 2);
    const file = path.join(root, 'multi.tar.bz2');
    await writeFile(file, Buffer.concat([tar.subarray(0, cut), tar.subarray(cut)].map((part) => execFileSync('bzip2', ['-c'], { input: part, maxBuffer: 1 << 30 }))));
    const imported = await bentoportAt(path.join(root, 'empty')).importBento(file);
    expect(await hashTree(imported.item.path)).toEqual(await hashTree(sample.bentoPath));
  });

  it('refuses corrupt and truncated bzip2 with ERR_CORRUPT_ARCHIVE, leaving no decoder thread behind', async () => {
    const root = await makeScratchDir('bz2-corrupt');
    const { home, sample } = await sampleHome(root);
    const good = await readFile((await bentoportAt(home).exportBento(sample.bentoTag, path.join(root, 'good.tar.bz2'))).destination);
    const flipped = Buffer.from(good);
    const middle = Math.floor(good.length / 2);
    flipped.writeUInt8((flipped[middle] as number) ^ 0x55, middle);
    for (const [name, bytes] of Object.entries({ 'flipped.tar.bz2': flipped, 'truncated.tar.bz2': good.subarray(0, good.length - 300) })) {
      await writeFile(path.join(root, name), bytes);
      const target = bentoportAt(path.join(root, `home-${name}`));
      const before = runningWorkers();
      await expect(target.importBento(path.join(root, name)), name).rejects.toMatchObject({ code: 'ERR_CORRUPT_ARCHIVE' });
      expect(await target.listBentos()).toEqual([]);
      // A decoder thread left running would keep the process from exiting.
      await vi.waitFor(() => expect(runningWorkers(), name).toBeLessThanOrEqual(before));
    }
  });

  it('sniffs the bzip2 magic', () => {
    expect(bz2Format().sniff(Buffer.from('BZh91AY&SY'))).toBe('bz2');
    expect(bz2Format().sniff(Buffer.from('BZx9'))).toBeUndefined();
  });
});
