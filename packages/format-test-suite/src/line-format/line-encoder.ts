import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ArchiveEntry } from '@bentoport/spec';
import { MAGIC, headerLine, lineFailure, trailerLine } from './line-layout.js';

/** Which link types the encoder accepts (the others are refused, as the capabilities say). */
export interface LineEncoderSettings {
  token: string;
  symlinks: boolean;
  hardlinks: boolean;
}

/** Output chunks of at most this size keep the pull from bodies proportional to what is read. */
const OUTPUT_HIGH_WATER_MARK = 64 * 1024;

/**
 * Encode entries into a line archive. Bytes are produced only as fast as the consumer reads them:
 * `Readable.from` asks the generator for the next piece only below its high-water mark, and a body
 * is read one chunk per piece.
 */
export function encodeLines(entries: AsyncIterable<ArchiveEntry>, settings: LineEncoderSettings, signal: AbortSignal | undefined): Readable {
  const operation = `write ${settings.token}`;
  let currentBody: Readable | undefined;
  const aborted = (): Error => lineFailure('ERR_ABORTED', operation, 'aborted', signal?.reason);

  async function* pieces(): AsyncGenerator<Buffer> {
    const hash = createHash('sha256');
    const emit = (piece: Buffer): Buffer => {
      hash.update(piece);
      return piece;
    };
    yield emit(Buffer.from(MAGIC));
    let count = 0;
    for await (const entry of entries) {
      if (signal?.aborted) throw aborted();
      checkEntry(entry, settings, operation);
      yield emit(Buffer.from(headerLine(entry)));
      if (entry.type === 'file') {
        for await (const chunk of bodyChunks(entry, operation, (body) => (currentBody = body))) yield emit(chunk);
        yield emit(Buffer.from('\n'));
      }
      count += 1;
    }
    yield Buffer.from(trailerLine({ end: count, sha256: hash.digest('hex') }));
  }

  const output = Readable.from(pieces(), { objectMode: false, highWaterMark: OUTPUT_HIGH_WATER_MARK });
  if (signal !== undefined) {
    // Fail at once, even while nobody reads: the generator would only notice on its next step.
    const onAbort = (): void => {
      currentBody?.destroy();
      output.destroy(aborted());
    };
    if (signal.aborted) onAbort();
    else {
      signal.addEventListener('abort', onAbort, { once: true });
      output.once('close', () => signal.removeEventListener('abort', onAbort));
    }
  }
  return output;
}

function checkEntry(entry: ArchiveEntry, settings: LineEncoderSettings, operation: string): void {
  if (entry.type === 'other') throw lineFailure('ERR_UNSUPPORTED_FORMAT', operation, `${entry.path} is neither a file, a directory nor a link`);
  if (entry.type === 'symlink' && !settings.symlinks) throw lineFailure('ERR_UNSUPPORTED_FORMAT', operation, `${entry.path}: symlinks are switched off`);
  if (entry.type === 'hardlink' && !settings.hardlinks) throw lineFailure('ERR_UNSUPPORTED_FORMAT', operation, `${entry.path}: hard links are switched off`);
  if ((entry.type === 'symlink' || entry.type === 'hardlink') && typeof entry.linkTarget !== 'string') {
    throw new TypeError(`[format-lines] ${operation}: ${entry.path} is a ${entry.type} without a linkTarget`);
  }
}

/** The body of a file entry, checked to be exactly `size` bytes. */
async function* bodyChunks(entry: ArchiveEntry, operation: string, opened: (body: Readable) => void): AsyncGenerator<Buffer> {
  if (entry.size === 0 && entry.open === undefined) return;
  if (entry.open === undefined) throw new TypeError(`[format-lines] ${operation}: ${entry.path} is a file of ${entry.size} bytes without open()`);
  const body = entry.open();
  opened(body);
  let received = 0;
  try {
    for await (const chunk of body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      received += buffer.length;
      if (received > entry.size) break;
      yield buffer;
    }
  } finally {
    body.destroy();
  }
  if (received !== entry.size) {
    throw lineFailure('ERR_IO', operation, `${entry.path} delivered ${received > entry.size ? 'more' : received} bytes, not the ${entry.size} its entry announces`);
  }
}
