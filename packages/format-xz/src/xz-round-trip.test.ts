import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createBentoport, type CompressionPolicy } from '@bentoport/core';
import { tarFormat } from '@bentoport/format-tar';
import { hashTree, makeScratchDir, python, writeSampleBento } from '@bentoport/test-utils';
import { fsTransport } from '@bentoport/transport-fs';
import { describe, expect, it } from 'vitest';
import { xzFormat } from './index.js';

const POLICIES: CompressionPolicy[] = ['auto', 'max', 'store'];

function bentoportAt(home: string) {
  return createBentoport({ home, formats: [xzFormat(), tarFormat()], transports: [fsTransport()] });
}

/** A bento with 3 MiB of float32 weights (dense), 2 MiB of random bytes (incompressible) and text. */
async function sampleHome(root: string) {
  const home = path.join(root, 'home');
  const sample = await writeSampleBento(home, { models: 1, weightsBytes: 3 * 1024 * 1024, sourceFiles: 60 });
  await writeFile(path.join(sample.bentoPath, 'src', 'already-compressed.bin'), randomBytes(2 * 1024 * 1024));
  await mkdir(path.join(root, 'out'));
  return { home, sample };
}

/** What BentoML's export would archive: the bento plus models/<name>/<version> and models/<name>/latest. */
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

function xzList(file: string): { streams: number; blocks: number } {
  const robot = execFileSync('xz', ['--robot', '--list', file], { encoding: 'utf8' });
  const totals = robot.split('\n').find((line) => line.startsWith('totals')) ?? '';
  const fields = totals.split('\t');
  return { streams: Number(fields[1]), blocks: Number(fields[2]) };
}

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

describe('format-xz: .bento archives', () => {
  it.each(POLICIES)(
    'compression %s: one xz stream of several blocks that passes xz -t and unpacks with Python tarfile r:xz and r|xz into the identical tree',
    async (policy) => {
      const root = await makeScratchDir(`xz-policy-${policy}`);
      const { home, sample } = await sampleHome(root);
      const result = await bentoportAt(home).exportBento(sample.bentoTag, `${root}/out/`, undefined, { compression: policy });
      expect(result.format).toBe('bento');
      expect(path.basename(result.destination)).toBe(`${sample.bentoTag.replace(':', '-')}.bento`);
      execFileSync('xz', ['-t', result.destination]);
      const listing = xzList(result.destination);
      expect(listing.streams).toBe(1);
      expect(listing.blocks).toBeGreaterThan(2);

      const expected = await hashTree(await expectedTree(root, sample));
      for (const mode of ['r:xz', 'r|xz']) {
        const target = path.join(root, mode.replace(/\W/g, '_'));
        await python('import tarfile, sys\nwith tarfile.open(sys.argv[1], sys.argv[3]) as t: t.extractall(sys.argv[2])', [result.destination, target, mode]);
        expect(await hashTree(target)).toEqual(expected);
      }

      const imported = await bentoportAt(path.join(root, 'empty-home')).importBento(result.destination);
      // The first bytes decide the token on import: xz magic reads as `xz`, the same codec as `bento`.
      expect(imported.format).toBe('xz');
      expect(imported.modelsImported).toEqual(sample.models.map((model) => model.tag));
      expect(await hashTree(imported.item.path)).toEqual(await hashTree(sample.bentoPath));
    },
  );

  it('is reproducible under every policy, and the policies order the sizes store > max >= auto', async () => {
    const root = await makeScratchDir('xz-reproducible');
    const { home, sample } = await sampleHome(root);
    const bentoport = bentoportAt(home);
    const sizes: Record<string, number> = {};
    for (const policy of POLICIES) {
      const first = await bentoport.exportBento(sample.bentoTag, path.join(root, `${policy}-1.bento`), undefined, { compression: policy });
      const second = await bentoport.exportBento(sample.bentoTag, path.join(root, `${policy}-2.bento`), undefined, { compression: policy });
      expect(await sha256(first.destination)).toBe(await sha256(second.destination));
      expect(second.sha256).toBe(first.sha256);
      sizes[policy] = first.size;
    }
    expect(sizes.store).toBeGreaterThan(sample.bytes);
    expect(sizes.auto).toBeLessThan(sizes.store as number);
    // Dense weights: auto's position-aware literal coder stays within the size of preset 6 (max)
    // even with the chunks it stores for speed (measured here: 0.987×).
    expect(sizes.auto).toBeLessThanOrEqual(sizes.max as number);
  });

  it('exports a model as .bentomodel by default and imports it into an empty store', async () => {
    const root = await makeScratchDir('xz-model');
    const { home, sample } = await sampleHome(root);
    const model = sample.models[0] as { tag: string; path: string };
    const result = await bentoportAt(home).exportModel(model.tag, `${root}/out/`);
    expect(result.format).toBe('bentomodel');
    expect(result.destination.endsWith(`${model.tag.replace(':', '-')}.bentomodel`)).toBe(true);
    execFileSync('xz', ['-t', result.destination]);
    const imported = await bentoportAt(path.join(root, 'empty')).importModel(result.destination);
    expect(await hashTree(imported.item.path)).toEqual(await hashTree(model.path));
  });

  it('decodes a tar split over several concatenated xz streams and multi-block xz from xz -T2', async () => {
    const root = await makeScratchDir('xz-multistream');
    const { home, sample } = await sampleHome(root);
    const tarFile = (await bentoportAt(home).exportBento(sample.bentoTag, path.join(root, 'plain.tar'))).destination;
    const tar = await readFile(tarFile);
    const cut = Math.floor(tar.length / 3);
    const parts = [tar.subarray(0, cut), tar.subarray(cut, 2 * cut), tar.subarray(2 * cut)].map((part) => execFileSync('xz', ['-c', '-1'], { input: part, maxBuffer: 1 << 30 }));
    const multiStream = path.join(root, 'multi-stream.tar.xz');
    await writeFile(multiStream, Buffer.concat(parts));
    expect(xzList(multiStream).streams).toBe(3);
    const multiBlock = path.join(root, 'multi-block.tar.xz');
    await writeFile(multiBlock, execFileSync('xz', ['-c', '-T2', '--block-size=1MiB'], { input: tar, maxBuffer: 1 << 30 }));
    expect(xzList(multiBlock).blocks).toBeGreaterThan(2);

    for (const [index, file] of [multiStream, multiBlock].entries()) {
      const imported = await bentoportAt(path.join(root, `home-${index}`)).importBento(file);
      expect(imported.format).toBe('xz');
      expect(await hashTree(imported.item.path)).toEqual(await hashTree(sample.bentoPath));
    }
  });

  it('refuses corrupt and truncated xz with ERR_CORRUPT_ARCHIVE and leaves the store empty', async () => {
    const root = await makeScratchDir('xz-corrupt');
    const { home, sample } = await sampleHome(root);
    const good = await readFile((await bentoportAt(home).exportBento(sample.bentoTag, path.join(root, 'good.bento'))).destination);
    const flipped = Buffer.from(good);
    const middle = Math.floor(good.length / 2);
    flipped.writeUInt8((flipped[middle] as number) ^ 0x55, middle);
    const cases = { 'flipped.bento': flipped, 'truncated.bento': good.subarray(0, good.length - 200), 'garbage.bento': Buffer.concat([good.subarray(0, 12), Buffer.alloc(4096, 7)]) };
    for (const [name, bytes] of Object.entries(cases)) {
      await writeFile(path.join(root, name), bytes);
      const target = bentoportAt(path.join(root, `home-${name}`));
      await expect(target.importBento(path.join(root, name)), name).rejects.toMatchObject({ code: 'ERR_CORRUPT_ARCHIVE' });
      expect(await target.listBentos()).toEqual([]);
    }
  });

  it('sniffs the xz magic and rejects tokens it does not handle', () => {
    const format = xzFormat();
    expect(format.sniff(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 4]))).toBe('xz');
    expect(format.sniff(Buffer.from([0x1f, 0x8b, 8, 0]))).toBeUndefined();
    expect(() => format.encode((async function* () {})(), { format: 'gz' })).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_FORMAT' }));
    expect(() => xzFormat({ blockSize: 10 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });
});
