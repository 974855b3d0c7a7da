import { createHash } from 'node:crypto';
import type { ArchiveEntry } from '@bentoport/spec';
import { bodySha256, encodeToBytes, expectSameEntries, OPERATION_MILLISECONDS, recordOf, sourceFor } from '../archive-io.js';
import { describeError } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { within } from '../deadline.js';
import { entriesOf, inWalkOrder, recordsOf, type EntryRecord, type SampleEntry } from '../sample-tree.js';
import { seededBytes, seededText } from '../seeded-bytes.js';
import { assert } from 'vitest';

const T = 1_700_000_000;
/** Incompressible and larger than a random-access decoder's threshold for a ranged read of its own (zip's is 8 MiB). */
const LARGE_BODY_BYTES = 12 * 1024 * 1024 + 17;

/** Two large bodies, each followed by small files, so that a decoder marking them can be read out of order. */
function largeBodyTree(): SampleEntry[] {
  const file = (path: string, body: Buffer): SampleEntry => ({ path, type: 'file', mode: 0o644, mtime: T, body });
  return inWalkOrder([
    { path: 'models', type: 'directory', mode: 0o755, mtime: T },
    file('models/a-large.bin', seededBytes(LARGE_BODY_BYTES, 11)),
    file('models/b-small.txt', seededText(2000, 12)),
    file('models/c-large.bin', seededBytes(LARGE_BODY_BYTES + 1, 13)),
    file('models/d-small.txt', seededText(3000, 14)),
  ]);
}

/**
 * An entry marked `independentBody` can be read while the decoder produces the later entries, as
 * core's extraction reads it: the first chunk of each marked body is read at once, then the later
 * entries are taken and their bodies read in turn, and the rest of the marked bodies last, in
 * reverse order. Every body must come back exactly. A decoder that marks no entry passes; one
 * that marks an entry whose body depends on its position waits for that body before the next
 * entry (caught by the deadline), fails, or returns other bytes.
 */
export async function checkIndependentBodies(context: CheckContext): Promise<void> {
  const sample = largeBodyTree();
  const bytes = await encodeToBytes(context, entriesOf(sample), `encode(${context.token}) of two ${LARGE_BODY_BYTES}-byte files`);
  const what = `decode(${context.token}) reading the bodies marked independentBody while it produces the later entries`;
  const records = await within(
    (async () => {
      const inOrder: EntryRecord[] = [];
      const deferred: Array<{ body: PartlyRead; record: EntryRecord }> = [];
      for await (const entry of context.format.decode(sourceFor(context.format, bytes), { format: context.token })) {
        const record = recordOf(entry);
        inOrder.push(record);
        if (entry.type !== 'file') continue;
        if (entry.independentBody === true) deferred.push({ body: await startReading(entry), record });
        else record.sha256 = await bodySha256(entry);
      }
      for (const { body, record } of deferred.reverse()) record.sha256 = await body.finish();
      return inOrder;
    })().catch((error: unknown) => assert.fail(`${what}: ${describeError(error)}`)),
    OPERATION_MILLISECONDS,
    what,
  );
  expectSameEntries(records, recordsOf(sample), `the bodies marked independentBody, read last (${context.token})`);
}

/** A body of which the first chunk has been read; `finish` reads the rest and gives the whole body's SHA-256. */
interface PartlyRead {
  finish(): Promise<string>;
}

async function startReading(entry: ArchiveEntry): Promise<PartlyRead> {
  const hash = createHash('sha256');
  const body = entry.open?.();
  if (body === undefined) return { finish: async () => hash.digest('hex') };
  const chunks = (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const first = await chunks.next();
  if (!first.done) hash.update(first.value);
  return {
    async finish() {
      if (!first.done) for (let next = await chunks.next(); !next.done; next = await chunks.next()) hash.update(next.value);
      return hash.digest('hex');
    },
  };
}
