import { Readable } from 'node:stream';
import { BentoportError, isBentoportError, type ArchiveEntry, type ArchiveSource, type DecodeOptions, type Format } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { checkContexts, type CheckContext } from './check-context.js';
import {
  checkBodyErrorFailsOutput,
  checkByteFlips,
  checkDecodeAbortedSignal,
  checkDecodeSignalMidBody,
  checkDecodeSignalStalledSource,
  checkDecodeUnknownToken,
  checkEncodeAbortedSignal,
  checkEncodeSignalMidStream,
  checkEncodeUnknownToken,
  checkEncoderBackpressure,
  checkEntriesErrorFailsOutput,
  checkGarbage,
  checkHugeEntry,
  checkIndependentBodies,
  checkRandomAccessDecode,
  checkReproducible,
  checkRoundTripHardlinks,
  checkRoundTripPaths,
  checkRoundTripPlain,
  checkRoundTripSymlinks,
  checkShape,
  checkSniffOwnOutput,
  checkSniffRejectsForeignMagic,
  checkSniffRejectsNoise,
  checkStreamingDecode,
  checkTruncated,
  checkUnopenedBodiesSkipped,
} from './checks/index.js';
import { lineFormat } from './line-format/line-format.js';

// The suite is only worth running if it can fail: each case breaks one sentence of the contract in
// the reference format and expects the matching check to throw, with a message naming the fault.

function contextFor(format: Format): CheckContext {
  return checkContexts(format, ['lines'], 0)('lines');
}

/** The reference format with some members replaced. */
function broken(override: (base: Format) => Partial<Format>): Format {
  const base = lineFormat();
  return { ...base, ...override(base) };
}

/** An encoder that rewrites the entry stream before the reference encodes it. */
function rewritingEntries(rewrite: (entries: AsyncIterable<ArchiveEntry>) => AsyncIterable<ArchiveEntry>): Format {
  return broken((base) => ({ encode: (entries, options) => base.encode(rewrite(entries), options) }));
}

/** A decoder whose errors (thrown or from bodies) are replaced by `map`'s result; `undefined` ends quietly. */
function mappingDecodeErrors(map: (error: unknown) => Error | undefined): Format {
  const quietBody = (body: Readable): Readable =>
    Readable.from(
      (async function* () {
        try {
          yield* body;
        } catch (error) {
          const mapped = map(error);
          if (mapped !== undefined) throw mapped;
        }
      })(),
      { objectMode: false },
    );
  return broken((base) => ({
    decode: (source, options) =>
      (async function* () {
        try {
          for await (const entry of base.decode(source, options)) {
            const open = entry.open;
            yield open === undefined ? entry : { ...entry, open: () => quietBody(open()) };
          }
        } catch (error) {
          const mapped = map(error);
          if (mapped !== undefined) throw mapped;
        }
      })(),
  }));
}

const plainError = (error: unknown): Error => new Error(error instanceof Error ? error.message : String(error));

async function collect(entries: AsyncIterable<ArchiveEntry>): Promise<ArchiveEntry[]> {
  const all: ArchiveEntry[] = [];
  for await (const entry of entries) all.push(entry);
  return all;
}

describe('the checks fail a broken format', () => {
  it('shape: apiVersion 2', async () => {
    await expect(checkShape(contextFor({ ...lineFormat(), apiVersion: 2 } as unknown as Format))).rejects.toThrow(/apiVersion must be 1/);
  });

  it('shape: a capability missing from the manifest', async () => {
    const format = broken(() => ({ capabilities: { randomAccessDecode: false, symlinks: true, hardlinks: true } as Format['capabilities'] }));
    await expect(checkShape(contextFor(format))).rejects.toThrow(/capabilities.reproducible must be a boolean/);
  });

  it('unsupported format: encode writes its own format whatever the token', async () => {
    const format = broken((base) => ({ encode: (entries, options) => base.encode(entries, { ...options, format: 'lines' }) }));
    await expect(checkEncodeUnknownToken(contextFor(format))).rejects.toThrow(/produced \d+ bytes instead of failing/);
  });

  it('unsupported format: decode throws a plain Error', async () => {
    const format = broken((base) => ({
      decode: (source, options) => {
        if (options.format !== 'lines') throw new Error(`unknown format ${options.format}`);
        return base.decode(source, options);
      },
    }));
    await expect(checkDecodeUnknownToken(contextFor(format))).rejects.toThrow(/got Error: unknown format.*ERR_UNSUPPORTED_FORMAT/);
  });

  it('round trip: empty directories are dropped', async () => {
    const format = rewritingEntries(async function* (entries) {
      const all = await collect(entries);
      for (const entry of all) {
        const empty = entry.type === 'directory' && !all.some((other) => other.path.startsWith(`${entry.path}/`));
        if (!empty) yield entry;
      }
    });
    await expect(checkRoundTripPlain(contextFor(format))).rejects.toThrow(/lost directory "empty-dir", directory "src\/z-empty-dir"/);
  });

  it('round trip: every file is stored with mode 0644', async () => {
    const format = rewritingEntries(async function* (entries) {
      for await (const entry of entries) yield entry.type === 'file' ? { ...entry, mode: 0o644 } : entry;
    });
    await expect(checkRoundTripPlain(contextFor(format))).rejects.toThrow(/entrypoint.sh": mode 0o644, expected 0o755/);
  });

  it('round trip: mtimes rounded to even seconds (DOS time)', async () => {
    const format = rewritingEntries(async function* (entries) {
      for await (const entry of entries) yield { ...entry, mtime: entry.mtime - (entry.mtime % 2) };
    });
    await expect(checkRoundTripPlain(contextFor(format))).rejects.toThrow(/mtime 1234567890, expected 1234567891/);
  });

  it('round trip: paths cut at 100 bytes (ustar without PAX)', async () => {
    const format = rewritingEntries(async function* (entries) {
      for await (const entry of entries) yield { ...entry, path: Buffer.from(entry.path).subarray(0, 100).toString() };
    });
    await expect(checkRoundTripPaths(contextFor(format))).rejects.toThrow(/lost .*file "long\/g+\.txt"/);
  });

  it('round trip: symlinks stored as files holding their target', async () => {
    const format = rewritingEntries(async function* (entries) {
      for await (const entry of entries) {
        if (entry.type !== 'symlink') yield entry;
        else {
          const target = Buffer.from(entry.linkTarget ?? '');
          yield { path: entry.path, type: 'file', mode: 0o644, mtime: entry.mtime, size: target.length, open: () => Readable.from([target]) };
        }
      }
    });
    await expect(checkRoundTripSymlinks(contextFor(format))).rejects.toThrow(/expected symlink "bin\/tool-link" -> tool, got file "bin\/tool-link"/);
  });

  it('round trip: hard links lose their target', async () => {
    const format = rewritingEntries(async function* (entries) {
      for await (const entry of entries) yield entry.type === 'hardlink' ? { ...entry, linkTarget: entry.path } : entry;
    });
    await expect(checkRoundTripHardlinks(contextFor(format))).rejects.toThrow(/link target data\/b\.bin, expected data\/a\.bin/);
  });

  it('round trip: the decoder insists that every body is read', async () => {
    const format = broken((base) => ({
      decode: (source, options) =>
        (async function* () {
          let opened = true;
          for await (const entry of base.decode(source, options)) {
            if (!opened) throw new BentoportError('ERR_CORRUPT_ARCHIVE', 'a body was not read');
            const open = entry.open;
            opened = open === undefined;
            yield open === undefined ? entry : { ...entry, open: () => ((opened = true), open()) };
          }
        })(),
    }));
    await expect(checkUnopenedBodiesSkipped(contextFor(format))).rejects.toThrow(/a body was not read/);
  });

  it('reproducible: the encode time is written into the archive', async () => {
    const format = rewritingEntries(async function* (entries) {
      yield { path: `.created-${Date.now()}`, type: 'directory', mode: 0o755, mtime: 0, size: 0 };
      yield* entries;
    });
    await expect(checkReproducible(contextFor(format))).rejects.toThrow(/encoded \(lines\) to different bytes/);
  });

  it('sniff: says yes to everything', async () => {
    const format = broken(() => ({ sniff: () => 'lines' }));
    await expect(checkSniffRejectsNoise(contextFor(format))).rejects.toThrow(/sniff\(an empty head\) answered lines/);
  });

  it("sniff: claims gzip's magic", async () => {
    const format = broken((base) => ({ sniff: (head) => (head[0] === 0x1f && head[1] === 0x8b ? 'lines' : base.sniff(head)) }));
    await expect(checkSniffRejectsForeignMagic(contextFor(format))).rejects.toThrow(/sniff of a gzip head answered lines/);
  });

  it('sniff: does not recognise its own output', async () => {
    const format = broken(() => ({ sniff: () => undefined }));
    await expect(checkSniffOwnOutput(contextFor(format))).rejects.toThrow(/answered undefined, not one of lines/);
  });

  it('sniff: throws on a short head', async () => {
    const format = broken((base) => ({
      sniff: (head) => {
        if (head.length < 4) throw new RangeError('head too short');
        return base.sniff(head);
      },
    }));
    await expect(checkSniffRejectsNoise(contextFor(format))).rejects.toThrow(/threw RangeError: head too short/);
  });

  it('source access: a streaming decoder reads through readRange when it is offered', async () => {
    const format = broken(() => ({ decode: (source, options) => lineFormat({ randomAccessDecode: source.readRange !== undefined }).decode(source, options) }));
    await expect(checkStreamingDecode(contextFor(format))).rejects.toThrow(/randomAccessDecode is false, yet decode\(lines\) called readRange/);
  });

  it('source access: randomAccessDecode declared, but decode reads stream()', async () => {
    const format = broken((base) => ({ capabilities: { ...base.capabilities, randomAccessDecode: true } }));
    await expect(checkRandomAccessDecode(contextFor(format))).rejects.toThrow(/randomAccessDecode is true, yet decode\(lines\) called stream\(\) 1 times/);
  });

  it('source access: entries marked independentBody whose bodies still depend on the decoder reading them in turn', async () => {
    const randomAccess = lineFormat({ randomAccessDecode: true });
    const format: Format = {
      ...randomAccess,
      decode: (source, options) =>
        (async function* () {
          for await (const entry of randomAccess.decode(source, options)) yield entry.type === 'file' ? { ...entry, independentBody: true } : entry;
        })(),
    };
    await expect(checkIndependentBodies(checkContexts(format, ['lines'], 0)('lines'))).rejects.toThrow(/independentBody/);
  });

  it('huge entries: sizes of 8 GiB and more are refused (a ustar-only tar)', async () => {
    const format = rewritingEntries(async function* (entries) {
      for await (const entry of entries) {
        if (entry.size >= 8 * 1024 ** 3) throw new BentoportError('ERR_UNSUPPORTED_FORMAT', `${entry.path} is too large for ustar`);
        yield entry;
      }
    });
    await expect(checkHugeEntry(contextFor(format))).rejects.toThrow(/failed before the huge entry's header.*too large for ustar/);
  });

  it('huge entries: the body is buffered before its header is written', async () => {
    const format = rewritingEntries(async function* (entries) {
      for await (const entry of entries) {
        const open = entry.open;
        if (open === undefined) yield entry;
        else {
          const chunks: Buffer[] = [];
          for await (const chunk of open()) chunks.push(chunk as Buffer);
          yield { ...entry, open: () => Readable.from(chunks) };
        }
      }
    });
    await expect(checkHugeEntry(contextFor(format))).rejects.toThrow(/failed before the huge entry's header|gave no file entry/);
  });

  it('backpressure: every body is read ahead of the consumer', async () => {
    const format = rewritingEntries(async function* (entries) {
      const all = await collect(entries);
      const bodies = all.map((entry) => {
        const open = entry.open;
        if (open === undefined) return undefined;
        const chunks: Buffer[] = [];
        open().on('data', (chunk: Buffer) => chunks.push(chunk));
        return chunks;
      });
      for (const [index, entry] of all.entries()) {
        const chunks = bodies[index];
        yield chunks === undefined ? entry : { ...entry, open: () => Readable.from(chunks) };
      }
    });
    await expect(checkEncoderBackpressure(contextFor(format))).rejects.toThrow(/pulled \d+ bytes of the 100663296 bytes of bodies before its first output chunk/);
  });

  it('encode errors: an error of the entry iterable ends the archive as if complete', async () => {
    const format = rewritingEntries(async function* (entries) {
      try {
        yield* entries;
      } catch {
        // swallowed: the archive ends early and looks whole
      }
    });
    await expect(checkEntriesErrorFailsOutput(contextFor(format))).rejects.toThrow(/ended normally with \d+ bytes after the entry iterable threw/);
  });

  it('encode errors: a failing body is replaced by another error', async () => {
    const format = rewritingEntries(async function* (entries) {
      for await (const entry of entries) {
        const open = entry.open;
        yield open === undefined
          ? entry
          : {
              ...entry,
              open: () => {
                const body = open();
                body.on('error', () => {});
                return Readable.from(
                  (async function* () {
                    try {
                      yield* body;
                    } catch {
                      throw new Error('body failed');
                    }
                  })(),
                );
              },
            };
      }
    });
    await expect(checkBodyErrorFailsOutput(contextFor(format))).rejects.toThrow(/failed with Error: body failed after a body stream failed half-way; expected that error \(ERR_IO\)/);
  });

  describe('abort: the signal is ignored', () => {
    const ignoring = broken((base) => ({
      encode: (entries, options) => base.encode(entries, { format: options.format }),
      decode: (source, options: DecodeOptions) => base.decode(source, { format: options.format }),
    }));

    it('by encode, when it has already fired', async () => {
      await expect(checkEncodeAbortedSignal(contextFor(ignoring))).rejects.toThrow(/produced a whole archive/);
    });

    it('by encode, when it fires mid-stream', async () => {
      await expect(checkEncodeSignalMidStream(contextFor(ignoring))).rejects.toThrow(/ended normally: the signal was ignored/);
    });

    it('by decode, when it has already fired', async () => {
      await expect(checkDecodeAbortedSignal(contextFor(ignoring))).rejects.toThrow(/decoded all 12 entries: the signal was ignored/);
    });

    it('by decode, when it fires mid-body', async () => {
      await expect(checkDecodeSignalMidBody(contextFor(ignoring))).rejects.toThrow(/completed: the signal was ignored/);
    });
  });

  it('abort: decode notices the signal only when the source delivers, and hangs on a stalled one', async () => {
    const format = broken((base) => ({
      decode: (source: ArchiveSource, options: DecodeOptions) =>
        (async function* () {
          for await (const entry of base.decode(source, { format: options.format })) {
            if (options.signal?.aborted) throw new BentoportError('ERR_ABORTED', 'aborted');
            yield entry;
          }
        })(),
    }));
    await expect(checkDecodeSignalStalledSource(contextFor(format))).rejects.toThrow(/still waits on the source 10 s later/);
  }, 30_000);

  it('damaged input: garbage fails with a plain Error', async () => {
    const format = mappingDecodeErrors(plainError);
    await expect(checkGarbage(contextFor(format))).rejects.toThrow(/got Error: \[format-lines\] read lines: this is not a line archive.*contract says ERR_CORRUPT_ARCHIVE/);
  });

  it('damaged input: a truncated archive ends quietly, as if complete', async () => {
    const format = mappingDecodeErrors((error) => (isBentoportError(error, 'ERR_CORRUPT_ARCHIVE') ? undefined : (error as Error)));
    await expect(checkTruncated(contextFor(format))).rejects.toThrow(/cut to 10 of \d+ bytes \(lines\) ended normally after 0 entries/);
  });

  it('damaged input: a checksum mismatch is a plain Error', async () => {
    const format = mappingDecodeErrors((error) => (isBentoportError(error, 'ERR_CORRUPT_ARCHIVE') && /SHA-256/.test(error.message) ? plainError(error) : (error as Error)));
    await expect(checkByteFlips(contextFor(format))).rejects.toThrow(/of 24 flips: .*got Error: .*SHA-256/);
  });
});
