/**
 * A 9 GiB member: past ustar's 8 GiB size field, so it needs a PAX `size` record. The body is
 * a sparse file and the archive is piped straight into Python, so nothing large touches the
 * disk, and the run also shows that memory stays bounded while 9 GiB stream through.
 */
import { createReadStream } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ArchiveEntry } from '@bentoport/core';
import { tarFormat } from './index.js';
import { pipeInto, temporaryDirectory } from './test-tree.js';

const NINE_GIB = 9 * 1024 ** 3;
let work: { path: string; remove: () => Promise<void> };
let sparse: string;

beforeAll(async () => {
  work = await temporaryDirectory();
  sparse = join(work.path, 'weights.bin');
  const handle = await open(sparse, 'w');
  await handle.truncate(NINE_GIB);
  await handle.close();
  await writeFile(join(work.path, 'after.txt'), 'after');
});
afterAll(() => work.remove());

async function* entries(): AsyncGenerator<ArchiveEntry> {
  yield { path: 'models', type: 'directory', mode: 0o755, mtime: 1_700_000_000, size: 0 };
  yield {
    path: 'models/weights.bin',
    type: 'file',
    mode: 0o644,
    mtime: 1_700_000_000,
    size: NINE_GIB,
    open: () => createReadStream(sparse, { highWaterMark: 1024 * 1024 }),
  };
  yield { path: 'models/after.txt', type: 'file', mode: 0o644, mtime: 1_700_000_000, size: 5, open: () => createReadStream(join(work.path, 'after.txt')) };
}

it(
  'writes a PAX size for a 9 GiB file that Python reads in stream mode',
  async () => {
    const script = `
import sys, tarfile
with tarfile.open(fileobj=sys.stdin.buffer, mode='r|') as tar:
    for member in tar:
        if member.isfile():
            reader = tar.extractfile(member)
            count = 0
            while True:
                chunk = reader.read(1 << 20)
                if not chunk:
                    break
                count += len(chunk)
            print(member.name, member.size, count, member.pax_headers.get('size', '-'))
        else:
            print(member.name, member.type.decode())
`;
    const result = await pipeInto(tarFormat().encode(entries(), { format: 'tar' }), 'python3', ['-c', script]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.split('\n').filter(Boolean)).toEqual([
      '. 5',
      './models 5',
      `./models/weights.bin ${NINE_GIB} ${NINE_GIB} ${NINE_GIB}`,
      './models/after.txt 5 5 -',
    ]);
  },
  180_000,
);
