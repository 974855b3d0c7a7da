import { lstat, mkdtemp, readFile, readdir, readlink, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ArchiveEntry, BentoportError, isBentoportError } from '@bentoport/spec';
import { extractEntries, type ExtractionLimits } from './safe-extract.js';

let root: string;
beforeEach(async () => {
  root = path.join(await mkdtemp(path.join(tmpdir(), 'bentoport-extract-')), 'root');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(root);
});

const file = (entryPath: string, content = 'x', mode = 0o644): ArchiveEntry => ({
  path: entryPath,
  type: 'file',
  mode,
  mtime: 1_700_000_000,
  size: Buffer.byteLength(content),
  open: () => Readable.from([Buffer.from(content)]),
});
const directory = (entryPath: string, mode = 0o755): ArchiveEntry => ({ path: entryPath, type: 'directory', mode, mtime: 1_700_000_000, size: 0 });
const symlink = (entryPath: string, linkTarget: string): ArchiveEntry => ({
  path: entryPath,
  type: 'symlink',
  mode: 0o777,
  mtime: 1_700_000_000,
  size: 0,
  linkTarget,
});

async function* from(entries: ArchiveEntry[]): AsyncGenerator<ArchiveEntry> {
  yield* entries;
}

async function rejection(entries: ArchiveEntry[], limits?: Partial<ExtractionLimits>, archiveBytes = 0): Promise<Error> {
  try {
    await extractEntries(from(entries), root, { limits, archiveBytesRead: () => archiveBytes });
  } catch (error) {
    expect(isBentoportError(error, 'ERR_UNSAFE_ARCHIVE')).toBe(true);
    return error as Error;
  }
  throw new Error('expected ERR_UNSAFE_ARCHIVE');
}

describe('safe extraction', () => {
  it('writes files, directories, modes, mtimes and inside symlinks; strips setuid/setgid/sticky', async () => {
    const summary = await extractEntries(
      from([
        directory('.'),
        directory('env', 0o750),
        file('env/run.sh', '#!/bin/sh\n', 0o4755),
        file('README.md', 'hi', 0o640),
        symlink('env/link.sh', 'run.sh'),
        symlink('up', 'README.md'),
        { path: 'env/hard.sh', type: 'hardlink', mode: 0o755, mtime: 0, size: 0, linkTarget: './env/run.sh' },
      ]),
      root,
    );
    expect(summary).toMatchObject({ files: 3, bytes: 12 });
    expect((await stat(path.join(root, 'env/run.sh'))).mode & 0o7777).toBe(0o755);
    expect((await stat(path.join(root, 'README.md'))).mode & 0o777).toBe(0o640);
    expect((await stat(path.join(root, 'env'))).mode & 0o777).toBe(0o750);
    expect((await stat(path.join(root, 'README.md'))).mtimeMs).toBe(1_700_000_000_000);
    expect(await readlink(path.join(root, 'env/link.sh'))).toBe('run.sh');
    expect((await stat(path.join(root, 'env/hard.sh'))).ino).toBe((await stat(path.join(root, 'env/run.sh'))).ino);
    expect(await readFile(path.join(root, 'env/link.sh'), 'utf8')).toBe('#!/bin/sh\n');
  });

  it.each([
    ['../evil', "'..' segments"],
    ['a/../../evil', "'..' segments"],
    ['/etc/passwd', 'absolute'],
    ['C:/Windows/evil', 'drive-letter'],
    ['a\\..\\evil', 'backslashes'],
  ])('rejects the path %j', async (entryPath, reason) => {
    expect((await rejection([file(entryPath)])).message).toContain(reason);
    expect(await readdir(root)).toEqual([]);
  });

  it.each([
    ['/etc/passwd', 'absolute'],
    ['../outside', 'outside'],
    ['a/../../outside', 'outside'],
  ])('rejects a symlink to %j', async (target, reason) => {
    expect((await rejection([symlink('link', target)])).message).toContain(reason);
  });

  it('rejects climbing out through another symlink', async () => {
    const error = await rejection([symlink('d', '.'), symlink('e', 'd/..')]);
    expect(error.message).toContain("'..' after a name");
  });

  it('rejects writing through a symlinked directory', async () => {
    const error = await rejection([directory('real'), symlink('alias', 'real'), file('alias/x')]);
    expect(error.message).toContain("parent 'alias' is a symlink");
  });

  it('rejects hard links to anything but an earlier file', async () => {
    const hard = (target: string): ArchiveEntry => ({ path: 'h', type: 'hardlink', mode: 0o644, mtime: 0, size: 0, linkTarget: target });
    expect((await rejection([hard('../etc/passwd')])).message).toContain("'..'");
    expect((await rejection([hard('later')])).message).toContain('not a file extracted before it');
  });

  it('rejects devices and FIFOs', async () => {
    expect((await rejection([{ path: 'dev', type: 'other', mode: 0o644, mtime: 0, size: 0 }])).message).toContain('device');
  });

  it('rejects duplicates and case-folded or Unicode-normalised collisions', async () => {
    expect((await rejection([file('a'), file('a')])).message).toContain('appears twice');
    expect((await rejection([file('Readme.md'), file('README.md')])).message).toContain("collides with 'Readme.md'");
    expect((await rejection([file('caf\u00e9'), file('cafe\u0301')])).message).toContain('collides');
    expect((await rejection([directory('Dir'), file('dir/x')])).message).toContain('collides');
  });

  it('enforces entry-count, size and compression-ratio limits', async () => {
    expect((await rejection([file('a'), file('b'), file('c')], { maxEntries: 2 })).message).toContain('more than 2 entries');
    expect((await rejection([file('a', 'x'.repeat(100))], { maxTotalBytes: 50 })).message).toContain('50-byte limit');
    const bomb = file('bomb', 'x'.repeat(10_000));
    expect((await rejection([bomb], { ratioGraceBytes: 1000, maxCompressionRatio: 100 }, 10)).message).toContain('compression ratio');
  });

  it('refuses a declared size past the ratio to the known archive size from the header, before opening the body', async () => {
    let opened = false;
    const lie: ArchiveEntry = { path: 'huge.bin', type: 'file', mode: 0o644, mtime: 0, size: 100 * 1024 ** 3, open: () => ((opened = true), Readable.from([Buffer.alloc(10)])) };
    const error = await extractEntries(from([file('bento.yaml'), lie]), root, { archiveBytes: 10_240, archiveBytesRead: () => 10_240 }).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_UNSAFE_ARCHIVE'), String(error)).toBe(true);
    expect((error as Error).message).toContain('declared 107374182400 bytes');
    expect(opened).toBe(false);
  });

  it('stops a bomb of unknown size having written no more than the 64 MiB grace, refusing the chunk that would cross it', async () => {
    let produced = 0;
    const zeros = Buffer.alloc(1024 * 1024);
    async function* gibibyteOfZeros(): AsyncGenerator<Buffer> {
      for (let index = 0; index < 1024; index++) {
        produced += zeros.length;
        yield zeros;
      }
    }
    const bomb: ArchiveEntry = { path: 'zeros.bin', type: 'file', mode: 0o644, mtime: 0, size: 1024 ** 3, open: () => Readable.from(gibibyteOfZeros()) };
    const error = await extractEntries(from([bomb]), root, { archiveBytesRead: () => 160_000 }).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_UNSAFE_ARCHIVE'), String(error)).toBe(true);
    const extracted = (error as { details: { extractedBytes: number } }).details.extractedBytes;
    expect(extracted).toBe(64 * 1024 ** 2);
    // Only what the stream buffers ahead of the writer was decoded beyond that.
    expect(produced).toBeLessThan(72 * 1024 ** 2);
  });

  it('extracts 64 MiB of zeros beside 36 MiB of dense data when the archive is of a realistic size', async () => {
    const dense = Buffer.alloc(36 * 1024 ** 2);
    for (let offset = 0; offset < dense.length; offset += 4) dense.writeUInt32LE((offset * 2_654_435_761) >>> 0, offset);
    const zeros: ArchiveEntry = { ...file('padding.bin'), size: 64 * 1024 ** 2, open: () => Readable.from([Buffer.alloc(64 * 1024 ** 2)]) };
    const weights: ArchiveEntry = { ...file('weights.bin'), size: dense.length, open: () => Readable.from([dense]) };
    // What gzip makes of it: the zeros shrink ~1000 times, the dense bytes not at all.
    const archiveBytes = dense.length + 64 * 1024;
    const summary = await extractEntries(from([zeros, weights]), root, { archiveBytes, archiveBytesRead: () => 64 * 1024 });
    expect(summary.bytes).toBe(100 * 1024 ** 2);
  });

  it('refuses a file larger than the free space before writing it, naming the bytes needed', async () => {
    let opened = false;
    const big: ArchiveEntry = { path: 'big.bin', type: 'file', mode: 0o644, mtime: 0, size: 2 * 1024 ** 2, open: () => ((opened = true), Readable.from([Buffer.alloc(2 * 1024 ** 2)])) };
    const error = await extractEntries(from([big]), root, { limits: { freeSpaceReserveBytes: Number.MAX_SAFE_INTEGER / 2 } }).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_IO'), String(error)).toBe(true);
    expect((error as Error).message).toMatch(/not enough free space for 'big.bin': it needs .* MiB \(\d+ bytes\)/);
    expect(opened).toBe(false);
  });

  it('accepts a directory named twice and leaves nothing special behind', async () => {
    await extractEntries(from([file('a/b'), directory('a')]), root);
    expect((await lstat(path.join(root, 'a'))).isDirectory()).toBe(true);
  });

  it('writes many small files side by side with their modes and mtimes', async () => {
    const entries = Array.from({ length: 200 }, (_, index) => ({ ...file(`d${index % 7}/f${index}`, `content ${index}`, 0o600 + (index % 2) * 0o44), mtime: 1_600_000_000 + index }));
    const summary = await extractEntries(from(entries), root);
    expect(summary.files).toBe(200);
    for (const index of [0, 1, 99, 199]) {
      const target = path.join(root, `d${index % 7}`, `f${index}`);
      expect(await readFile(target, 'utf8')).toBe(`content ${index}`);
      const info = await stat(target);
      expect(info.mode & 0o777).toBe(0o600 + (index % 2) * 0o44);
      expect(info.mtimeMs).toBe((1_600_000_000 + index) * 1000);
    }
  });

  it('calls a body shorter or longer than its header corrupt, for small and large files', async () => {
    const lying = (size: number, actual: number): ArchiveEntry => ({ path: `f${size}`, type: 'file', mode: 0o644, mtime: 0, size, open: () => Readable.from([Buffer.alloc(actual)]) });
    for (const [size, actual] of [[10, 5], [10, 20], [3 << 20, 2 << 20], [2 << 20, 3 << 20]] as const) {
      const error = await extractEntries(from([lying(size, actual)]), root).catch((caught: unknown) => caught);
      expect(isBentoportError(error, 'ERR_CORRUPT_ARCHIVE'), `${size}/${actual}: ${String(error)}`).toBe(true);
      expect((error as Error).message).toContain(`its header says ${size}`);
    }
    // A body offered whole (readWhole) is checked alike, and its stream never opened.
    const offeredWhole = (size: number, actual: number): ArchiveEntry => ({ ...lying(size, actual), open: () => Readable.from([]).destroy(new Error('opened')), readWhole: () => Buffer.alloc(actual) });
    for (const [size, actual] of [[10, 5], [10, 20]] as const) {
      const error = await extractEntries(from([offeredWhole(size, actual)]), root).catch((caught: unknown) => caught);
      expect(isBentoportError(error, 'ERR_CORRUPT_ARCHIVE'), `${size}/${actual}: ${String(error)}`).toBe(true);
      expect((error as Error).message).toContain(`has ${actual} bytes, its header says ${size}`);
    }
  });
});

describe('small-file writes', () => {
  it('never overwrite a file already there, and fail the extraction at that file', async () => {
    const { writeFile } = await import('node:fs/promises');
    // Not in the archive, so extraction does not know of it: the exclusive create must refuse it.
    await writeFile(path.join(root, 'taken.txt'), 'original');
    const entries = [file('before.txt', 'fine'), file('taken.txt', 'replaced'), file('after.txt', 'never')];
    await expect(extractEntries(from(entries), root)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(path.join(root, 'taken.txt'), 'utf8')).toBe('original');
    expect(await readFile(path.join(root, 'before.txt'), 'utf8')).toBe('fine');
    await expect(lstat(path.join(root, 'after.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fail at a taken file deep in the archive with its error, and write nothing once the extraction has failed', async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(root, 'f0300'), 'original');
    const names = Array.from({ length: 1000 }, (_, index) => `f${String(index).padStart(4, '0')}`);
    const error = await extractEntries(from(names.map((name) => file(name, name))), root).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'EEXIST', syscall: 'open' });
    expect((error as Error).message).toContain('f0300');
    expect(await readFile(path.join(root, 'f0300'), 'utf8')).toBe('original');
    expect(await readFile(path.join(root, 'f0299'), 'utf8')).toBe('f0299');
    const listed = (await readdir(root)).sort();
    expect(listed).not.toContain('f0999');
    // Settled when the promise settles: nothing appears afterwards.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await readdir(root)).sort()).toEqual(listed);
  });

  it('link a hard link to a small file written just before it', async () => {
    const entries: ArchiveEntry[] = Array.from({ length: 150 }, (_, index) => file(`f${index}`, `content ${index}`));
    entries.push({ path: 'linked', type: 'hardlink', mode: 0o644, mtime: 0, size: 0, linkTarget: 'f149' });
    await extractEntries(from(entries), root);
    expect(await readFile(path.join(root, 'linked'), 'utf8')).toBe('content 149');
    expect((await stat(path.join(root, 'linked'))).ino).toBe((await stat(path.join(root, 'f149'))).ino);
  });
});

describe('independent bodies', () => {
  const MiB = 1024 * 1024;
  /** A large file entry marked independentBody whose body is `body()`. */
  const independent = (entryPath: string, size: number, body: () => Readable): ArchiveEntry => ({
    path: entryPath, type: 'file', mode: 0o644, mtime: 1_700_000_000, size, independentBody: true, open: body,
  });
  /** `size` bytes of `fill`, in 256 KiB chunks, each pushed on a later turn of the event loop. */
  const slowBody = (size: number, fill: number, beforeLast: () => Promise<void> = async () => undefined, onEnd?: () => void): Readable =>
    Readable.from(
      (async function* () {
        for (let sent = 0; sent < size; ) {
          const length = Math.min(256 * 1024, size - sent);
          if (sent + length === size) await beforeLast();
          await new Promise((resolve) => setImmediate(resolve));
          sent += length;
          yield Buffer.alloc(length, fill);
        }
        onEnd?.();
      })(),
    );

  it('writes the entries after an independent body while that body is still arriving', async () => {
    let afterProduced!: () => void;
    const laterEntriesTaken = new Promise<void>((resolve) => (afterProduced = resolve));
    async function* entries(): AsyncGenerator<ArchiveEntry> {
      yield independent('weights.bin', 2 * MiB, () => slowBody(2 * MiB, 7, () => laterEntriesTaken));
      for (let index = 0; index < 20; index++) yield file(`src/f${index}.py`, `print(${index})\n`);
      // Reached only if the extraction asked for more entries before the body above had ended.
      afterProduced();
    }
    const summary = await extractEntries(entries(), root);
    const sourceBytes = Array.from({ length: 20 }, (_, index) => `print(${index})\n`.length).reduce((sum, length) => sum + length, 0);
    expect(summary).toMatchObject({ files: 21, bytes: 2 * MiB + sourceBytes });
    expect((await readFile(path.join(root, 'weights.bin'))).equals(Buffer.alloc(2 * MiB, 7))).toBe(true);
    expect(await readFile(path.join(root, 'src', 'f19.py'), 'utf8')).toBe('print(19)\n');
  }, 20_000);

  it('writes at most two independent bodies at once', async () => {
    let running = 0;
    let most = 0;
    const counted = (): Readable => {
      running++;
      most = Math.max(most, running);
      return slowBody(2 * MiB, 1, undefined, () => running--);
    };
    const entries = [0, 1, 2, 3].map((index) => independent(`shard-${index}.bin`, 2 * MiB, counted));
    await extractEntries(from(entries), root);
    expect(most).toBe(2);
    for (const index of [0, 1, 2, 3]) expect((await stat(path.join(root, `shard-${index}.bin`))).size).toBe(2 * MiB);
  }, 20_000);

  it("fails with a failed body's own error once every write has settled, and takes no more entries than it had", async () => {
    const damaged = (): Readable =>
      Readable.from(
        (async function* () {
          yield Buffer.alloc(MiB + 1);
          await new Promise((resolve) => setImmediate(resolve));
          throw new BentoportError('ERR_CORRUPT_ARCHIVE', 'entry "bad.bin" fails its CRC-32 check');
        })(),
      );
    let taken = 0;
    async function* entries(): AsyncGenerator<ArchiveEntry> {
      yield independent('bad.bin', 4 * MiB, damaged);
      yield independent('good.bin', 4 * MiB, () => slowBody(4 * MiB, 2));
      for (let index = 0; index < 10_000; index++) {
        taken++;
        yield file(`f${index}`, 'x');
      }
    }
    const error = await extractEntries(entries(), root).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_CORRUPT_ARCHIVE'), String(error)).toBe(true);
    expect((error as Error).message).toContain('bad.bin');
    expect(taken).toBeLessThan(10_000);
    // Settled when the promise settles: the other body (if it had started) was stopped, and
    // nothing is written afterwards.
    const sizes = async (): Promise<string[]> => Promise.all((await readdir(root)).sort().map(async (name) => `${name}:${(await stat(path.join(root, name))).size}`));
    const settled = await sizes();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await sizes()).toEqual(settled);
  }, 20_000);

  it('links a hard link to a file whose independent body is still arriving', async () => {
    let linkTaken!: () => void;
    const linkWasTaken = new Promise<void>((resolve) => (linkTaken = resolve));
    async function* entries(): AsyncGenerator<ArchiveEntry> {
      yield independent('weights.bin', 2 * MiB, () => slowBody(2 * MiB, 5, () => linkWasTaken));
      yield { path: 'weights-link.bin', type: 'hardlink', mode: 0o644, mtime: 0, size: 0, linkTarget: 'weights.bin' };
      linkTaken();
    }
    await extractEntries(entries(), root);
    expect((await stat(path.join(root, 'weights-link.bin'))).ino).toBe((await stat(path.join(root, 'weights.bin'))).ino);
    expect((await readFile(path.join(root, 'weights-link.bin'))).equals(Buffer.alloc(2 * MiB, 5))).toBe(true);
  }, 20_000);

  it('counts the declared bytes of bodies still arriving against the limits, before opening the next', async () => {
    let secondOpened = false;
    const entries = [
      independent('a.bin', 3 * MiB, () => slowBody(3 * MiB, 1)),
      independent('b.bin', 3 * MiB, () => {
        secondOpened = true;
        return slowBody(3 * MiB, 2);
      }),
    ];
    const error = await rejection(entries, { maxTotalBytes: 5 * MiB });
    expect(error.message).toContain("'b.bin'");
    expect(error.message).toContain('beyond the');
    expect(secondOpened).toBe(false);
  }, 20_000);
});
