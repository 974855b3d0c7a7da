/**
 * A 9 GiB member: past ustar's 8 GiB size field, so it needs a PAX `size` record. The body is
 * a sparse file and the archive is streamed straight into Python, so nothing large touches the
 * disk, and the run also shows that memory stays bounded while 9 GiB stream through.
 *
 * The stream goes through a named pipe, not the child's stdin: Node gives a child a socket pair
 * there, whose ~200 KiB buffer made every 9 GiB a ping-pong of wake-ups (115 s here). A FIFO
 * widened to 1 MiB, written from the thread pool, carries the same bytes in about a tenth of that.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, createReadStream, createWriteStream, openSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArchiveEntry } from '@bentoport/spec';
import { makeScratchDir, removeScratchDirs } from '@bentoport/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { abortableEncoderOutput, encodeTar } from './index.js';

const NINE_GIB = 9 * 1024 ** 3;
let work: string;
let sparse: string;
let fifo: string;

beforeAll(async () => {
  work = await makeScratchDir('tar-large-file');
  sparse = join(work, 'weights.bin');
  const handle = await open(sparse, 'w');
  await handle.truncate(NINE_GIB);
  await handle.close();
  await writeFile(join(work, 'after.txt'), 'after');
  fifo = join(work, 'archive.fifo');
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
});
afterAll(removeScratchDirs);

/**
 * Streams into a FIFO that a child process reads (its path is the child's last argument) and
 * resolves with the child's exit status and output once both ends are done.
 */
async function streamInto(stream: Readable, command: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, [...args, fifo], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      // A child that died before opening the FIFO would leave our open() blocked for good: a
      // reader that opens and closes at once releases it, and the write then fails with EPIPE.
      closeSync(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
      resolve(status);
    });
  });
  const written = pipeline(stream, createWriteStream(fifo)).then(
    () => undefined,
    (error: unknown) => error,
  );
  const [status, writeError] = await Promise.all([exited, written]);
  return { status, stdout, stderr: stderr || (writeError instanceof Error ? writeError.message : '') };
}

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
  yield { path: 'models/after.txt', type: 'file', mode: 0o644, mtime: 1_700_000_000, size: 5, open: () => createReadStream(join(work, 'after.txt')) };
}

it(
  'writes a PAX size for a 9 GiB file that Python reads in stream mode',
  async () => {
    // bufsize: stream mode reads in blocks of this size (10 KiB by default, 12 times slower).
    const script = `
import fcntl, sys, tarfile
fifo = open(sys.argv[1], 'rb', buffering=0)
try:
    fcntl.fcntl(fifo.fileno(), getattr(fcntl, 'F_SETPIPE_SZ', 1031), 1 << 20)
except OSError:
    pass  # a user over the pipe-buffer quota keeps 64 KiB: slower, and the same bytes
with tarfile.open(fileobj=fifo, mode='r|', bufsize=1 << 20) as tar:
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
    const archive = abortableEncoderOutput((stop) => encodeTar(entries(), { signal: stop }), { component: 'tar', format: 'tar' });
    const result = await streamInto(archive, 'python3', ['-c', script]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.split('\n').filter(Boolean)).toEqual([
      '. 5',
      './models 5',
      `./models/weights.bin ${NINE_GIB} ${NINE_GIB} ${NINE_GIB}`,
      './models/after.txt 5 5 -',
    ]);
  },
  // A bound against a hang, not a verdict on speed: ~15 s here; 9 GiB through the child's stdin
  // once took the whole of an earlier 180 s on a busy CI machine.
  600_000,
);
