import { createReadStream } from 'node:fs';
import path from 'node:path';
import { python } from '@bentoport/test-utils';
import { describe, expect, it } from 'vitest';
import { bentoportAt, listTree, rejectionOf, scratch } from './harness.js';

/**
 * Decompression bombs and size lies, in every format, refused having written little: the error's
 * `details.extractedBytes` says how much (a counter, not a clock).
 */

const MiB = 1024 * 1024;
const BENTO_YAML = "service: service:Svc\\nname: bomb\\nversion: v1\\ncreation_time: '2025-01-01T00:00:00+00:00'\\n";

/** Python that writes a bento-like tar to `fileobj`: bento.yaml, then `members` as (name, MiB, kind) with kind zeros or dense. */
const TAR_WRITER = [
  'import io, random, sys, tarfile',
  'class Body(io.RawIOBase):',
  '  def __init__(self, dense): self.random = random.Random(7) if dense else None',
  '  def readable(self): return True',
  '  def readinto(self, b):',
  '    b[:] = self.random.randbytes(len(b)) if self.random else bytes(len(b)); return len(b)',
  'def write_tar(fileobj, members):',
  "  with tarfile.open(fileobj=fileobj, mode='w|') as t:",
  `    y = b"${BENTO_YAML}"; i = tarfile.TarInfo('bento.yaml'); i.size = len(y); t.addfile(i, io.BytesIO(y))`,
  '    for name, mib, kind in members:',
  "      i = tarfile.TarInfo(name); i.size = mib << 20; t.addfile(i, io.BufferedReader(Body(kind == 'dense'), 1 << 20))",
].join('\n');

/** Write `archive`, a tar of `members` compressed by Python's `module` (gzip, lzma or bz2). */
async function compressedTar(archive: string, module: 'gzip' | 'lzma' | 'bz2', members: Array<[string, number, 'zeros' | 'dense']>): Promise<void> {
  // A bomb at gzip's best ratio (~1000:1); level 1 for dense bytes, which it cannot shrink anyway.
  const level = members.every(([, , kind]) => kind === 'zeros') ? 9 : 1;
  const open = module === 'gzip' ? `gzip.open(sys.argv[1], "wb", compresslevel=${level})` : `${module}.open(sys.argv[1], "wb")`;
  await python(`${TAR_WRITER}\nimport ${module}\nwith ${open} as out:\n  write_tar(out, ${JSON.stringify(members)})`, [archive]);
}

function extractedBytes(error: Error): number {
  return (error as Error & { details?: { extractedBytes?: number } }).details?.extractedBytes ?? Number.NaN;
}

async function expectNothingStaged(home: string): Promise<void> {
  expect(await listTree(path.join(home, 'bentos'))).toEqual([]);
  expect((await listTree(path.join(home, 'tmp'))).filter((entry) => entry.startsWith('bentoport-staging'))).toEqual([]);
}

describe('decompression bombs are refused having written little', () => {
  it.each([
    ['gzip', 'bomb.tar.gz'],
    ['lzma', 'bomb.tar.xz'],
    ['bz2', 'bomb.tar.bz2'],
  ] as const)('a %s bomb read from a file is refused from its tar header, before its body is decoded', async (module, name) => {
    const { root, homeA } = await scratch(`bomb-${module}`);
    const archive = path.join(root, name);
    await compressedTar(archive, module, [['zeros.bin', 320, 'zeros']]);
    const error = await rejectionOf(bentoportAt(homeA).importBento(archive));
    expect(error.code).toBe('ERR_UNSAFE_ARCHIVE');
    expect(error.message).toContain('declared 335544320 bytes');
    expect(extractedBytes(error)).toBeLessThan(1024);
    await expectNothingStaged(homeA);
  });

  it.each([
    ['gzip', 'gz'],
    ['lzma', 'xz'],
    ['bz2', 'bz2'],
  ] as const)('a %s bomb streamed without a size is stopped having written at most the 64 MiB grace', async (module, format) => {
    const { root, homeA } = await scratch(`bomb-stream-${module}`);
    const archive = path.join(root, `bomb.tar.${format}`);
    await compressedTar(archive, module, [['zeros.bin', 320, 'zeros']]);
    const error = await rejectionOf(bentoportAt(homeA).importBento(createReadStream(archive)));
    expect(error.code).toBe('ERR_UNSAFE_ARCHIVE');
    expect(error.message).toContain('compression ratio');
    // Written before the refusal: at most the grace. The chunk that would cross it is refused
    // whole, and decoders hand over large ones (a bzip2 block of zeros is ~45 MB).
    expect(extractedBytes(error)).toBeLessThanOrEqual(64 * MiB);
    await expectNothingStaged(homeA);
  });

  it('refuses a zip entry whose central directory size is a bomb, before inflating it', async () => {
    const { root, homeA } = await scratch('bomb-zip');
    const archive = path.join(root, 'bomb.zip');
    await python(
      `import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n  z.writestr('bento.yaml', "${BENTO_YAML}")\n  with z.open('zeros.bin', 'w', force_zip64=True) as f:\n    for _ in range(320): f.write(bytes(1 << 20))`,
      [archive],
    );
    const error = await rejectionOf(bentoportAt(homeA).importBento(archive));
    expect(error.code).toBe('ERR_UNSAFE_ARCHIVE');
    expect(error.message).toContain('declared 335544320 bytes');
    expect(extractedBytes(error)).toBeLessThan(1024);
    await expectNothingStaged(homeA);
  });

  it('refuses a plain tar whose header declares 1 TiB before reading the body', async () => {
    const { root, homeA } = await scratch('tar-size-lie');
    const archive = path.join(root, 'lie.tar');
    await python(
      `${TAR_WRITER}\nwith open(sys.argv[1], 'wb') as out:\n  write_tar(out, [])\n  out.seek(-1024, 2); out.truncate()\n  i = tarfile.TarInfo('weights.bin'); i.size = 1 << 40\n  out.write(i.tobuf(format=tarfile.GNU_FORMAT) + bytes(4096))`,
      [archive],
    );
    const error = await rejectionOf(bentoportAt(homeA).importBento(archive));
    expect(error.code).toBe('ERR_UNSAFE_ARCHIVE');
    expect(error.message).toMatch(/'weights.bin'.*(declared 1099511627776 bytes|beyond the \d+-byte limit)/);
    expect(extractedBytes(error)).toBeLessThan(1024);
    await expectNothingStaged(homeA);
  });
});

describe('highly compressible but reasonable bentos still import', () => {
  it('64 MiB of zeros ahead of 36 MiB of dense weights, from a file', async () => {
    const { root, homeA } = await scratch('compressible-file');
    const archive = path.join(root, 'padded.tar.gz');
    await compressedTar(archive, 'gzip', [['padding.bin', 64, 'zeros'], ['weights.bin', 36, 'dense']]);
    const result = await bentoportAt(homeA).importBento(archive);
    expect(result.item.tag).toMatchObject({ name: 'bomb', version: 'v1' });
  });

  it('64 MiB of zeros after 36 MiB of dense weights, streamed without a size', async () => {
    const { root, homeA } = await scratch('compressible-stream');
    const archive = path.join(root, 'padded.tar.gz');
    await compressedTar(archive, 'gzip', [['weights.bin', 36, 'dense'], ['padding.bin', 64, 'zeros']]);
    const result = await bentoportAt(homeA).importBento(createReadStream(archive));
    expect(result.item.tag).toMatchObject({ name: 'bomb', version: 'v1' });
  });
});
