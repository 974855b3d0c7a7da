import { Readable } from 'node:stream';
import { BentoportError, isBentoportError, type ArchiveEntry } from '@bentoport/spec';
import { describeError } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { entriesOf, plainTree } from '../sample-tree.js';
import { seededBytes } from '../seeded-bytes.js';
import { encodeOutcome } from '../stream-outcome.js';
import { assert } from 'vitest';

const T = 1_700_000_000;

/** The output failed with `original`: itself, wrapped (as `cause`), or a coded error with its code. */
function isSameFailure(error: unknown, original: BentoportError): boolean {
  for (let current = error, depth = 0; current !== undefined && depth < 5; depth++) {
    if (current === original) return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return isBentoportError(error, original.code);
}

async function expectOutputFailsWith(context: CheckContext, entries: AsyncIterable<ArchiveEntry>, original: BentoportError, what: string): Promise<void> {
  const outcome = await encodeOutcome(() => context.format.encode(entries, { format: context.token }), 10_000);
  assert(outcome.kind !== 'timeout', `encode(${context.token}) neither failed nor ended within 10 s after ${what}`);
  if (outcome.kind === 'end') assert.fail(`encode(${context.token}) ended normally with ${outcome.bytes.length} bytes after ${what}: a truncated archive passed off as whole`);
  assert(isSameFailure(outcome.error, original), `encode(${context.token}) failed with ${describeError(outcome.error)} after ${what}; expected that error (${original.code})`);
}

/** "Errors (also from `entries`) destroy the returned stream": the entry iterable throwing fails the output with its error. */
export async function checkEntriesErrorFailsOutput(context: CheckContext): Promise<void> {
  const original = new BentoportError('ERR_PERMISSION', '[format-test-suite] walk: permission denied (a deliberate failure)');
  async function* failing(): AsyncGenerator<ArchiveEntry> {
    let count = 0;
    for await (const entry of entriesOf(plainTree())) {
      if (++count > 3) throw original;
      yield entry;
    }
  }
  await expectOutputFailsWith(context, failing(), original, 'the entry iterable threw');
}

/** A body stream failing half-way fails the output with its error, rather than ending the archive early. */
export async function checkBodyErrorFailsOutput(context: CheckContext): Promise<void> {
  const original = new BentoportError('ERR_IO', '[format-test-suite] read weights.bin: input/output error (a deliberate failure)');
  const data = seededBytes(200 * 1024, 403);
  async function* entries(): AsyncGenerator<ArchiveEntry> {
    yield { path: 'a.txt', type: 'file', mode: 0o644, mtime: T, size: 2, open: () => Readable.from([Buffer.from('a\n')]) };
    yield {
      path: 'weights.bin',
      type: 'file',
      mode: 0o644,
      mtime: T,
      size: data.length,
      open: () => {
        let sent = false;
        return new Readable({
          read() {
            if (sent) this.destroy(original);
            else this.push(data.subarray(0, 100 * 1024));
            sent = true;
          },
        });
      },
    };
    yield { path: 'z.txt', type: 'file', mode: 0o644, mtime: T, size: 2, open: () => Readable.from([Buffer.from('z\n')]) };
  }
  await expectOutputFailsWith(context, entries(), original, 'a body stream failed half-way');
}
