import { Readable, Writable } from 'node:stream';
import { BentoportError, type Location, type Transport } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import type { CheckContext } from './check-context.js';
import {
  checkAbortLeavesNothing,
  checkCommitAtomicNew,
  checkListMissing,
  checkRangedReads,
  checkReadBackpressure,
  checkReadMissing,
  checkReadSignalMidStream,
  checkShape,
  checkStatMissing,
  checkWriteAbortedSignal,
  checkWriteBackpressure,
} from './checks/index.js';
import { memoryTransport } from './memory-transport.js';
import { seededBytes } from './seeded-bytes.js';

// The suite is only worth running if it can fail: each case breaks one sentence of the contract
// in the reference transport and expects the matching check to throw.

let scratch = 0;
function contextFor(transport: Transport): CheckContext {
  const root = `/broken-${++scratch}`;
  return {
    transport,
    location: async (relativePath): Promise<Location> => {
      const path = `${root}/${relativePath}`;
      return { protocol: 'memory', host: '', path, query: '', display: `memory://${path}` };
    },
  };
}

/** The reference transport with some methods replaced. */
function broken(override: (base: Transport) => Partial<Transport>): Transport {
  const base = memoryTransport();
  return { ...base, ...override(base) };
}

describe('the checks fail a broken transport', () => {
  it('shape: list declared but missing', async () => {
    const transport = broken((base) => ({ capabilities: { ...base.capabilities, list: true }, list: undefined }));
    await expect(checkShape(contextFor(transport))).rejects.toThrow(/list is absent but capabilities.list is true/);
  });

  it('shape: apiVersion 2', async () => {
    const transport = { ...memoryTransport(), apiVersion: 2 } as unknown as Transport;
    await expect(checkShape(contextFor(transport))).rejects.toThrow(/apiVersion must be 1/);
  });

  it('missing location: stat rejects with ERR_IO instead of ERR_NOT_FOUND', async () => {
    const transport = broken((base) => ({
      stat: (location, options) =>
        base.stat(location, options).catch((error: unknown) => {
          throw new BentoportError('ERR_IO', 'wrong code', { cause: error });
        }),
    }));
    await expect(checkStatMissing(contextFor(transport))).rejects.toThrow(/BentoportError ERR_IO.*contract says ERR_NOT_FOUND/);
  });

  it('missing location: read hands back a stream that errors later', async () => {
    const transport = broken((base) => ({
      read: async (location, options) => {
        try {
          return await base.read(location, options);
        } catch (error) {
          return new Readable({ read() { this.destroy(error as Error); } });
        }
      },
    }));
    await expect(checkReadMissing(contextFor(transport))).rejects.toThrow(/resolved, but the contract says it rejects with ERR_NOT_FOUND/);
  });

  it('two-phase: commit happens as soon as the stream finishes', async () => {
    const transport = broken((base) => ({
      write: async (location, options) => {
        const writer = await base.write(location, options);
        writer.stream.once('finish', () => void writer.commit());
        return writer;
      },
    }));
    await expect(checkCommitAtomicNew(contextFor(transport))).rejects.toThrow(/before commit.*resolved/);
  });

  it('two-phase: abort commits instead of discarding', async () => {
    const transport = broken((base) => ({
      write: async (location, options) => {
        const writer = await base.write(location, options);
        return {
          stream: writer.stream,
          commit: () => writer.commit(),
          abort: async () => {
            if (!writer.stream.writableEnded) writer.stream.end();
            await new Promise((resolve) => setTimeout(resolve, 20));
            await writer.commit().catch(() => {});
          },
        };
      },
    }));
    await expect(checkAbortLeavesNothing(contextFor(transport))).rejects.toThrow(/after abort/);
  });

  it('abort signal: write ignores an aborted signal', async () => {
    const transport = broken((base) => ({ write: (location) => base.write(location) }));
    await expect(checkWriteAbortedSignal(contextFor(transport))).rejects.toThrow(/resolved, but the contract says it rejects with ERR_ABORTED/);
  });

  it('abort signal: the read stream ends silently when the signal fires', async () => {
    const transport = broken((base) => ({
      read: async (location, options) => {
        const stream = await base.read(location, { ...options, signal: undefined });
        options?.signal?.addEventListener('abort', () => stream.destroy());
        return stream;
      },
    }));
    await expect(checkReadSignalMidStream(contextFor(transport))).rejects.toThrow(/closed without an error/);
  });

  it('ranged reads: start/end ignored', async () => {
    const transport = broken((base) => ({ read: (location, options) => base.read(location, { signal: options?.signal }) }));
    await expect(checkRangedReads(contextFor(transport))).rejects.toThrow(/got 200017 bytes/);
  });

  it('backpressure: a read stream that pushes the whole object at once', async () => {
    const transport = broken((base) => ({
      read: async (location, options) => {
        const whole = Buffer.concat(await (await base.read(location, options)).toArray());
        let pushed = false;
        return new Readable({
          read() {
            if (pushed) return;
            pushed = true;
            // Ignores push() returning false: everything lands in the stream's buffer.
            for (let offset = 0; offset < whole.length; offset += 65_536) this.push(whole.subarray(offset, offset + 65_536));
            this.push(null);
          },
        });
      },
    }));
    await expect(checkReadBackpressure(contextFor(transport))).rejects.toThrow(/delivered or buffered \d+ bytes nobody asked for/);
  });

  it('backpressure: a writer stream that never says stop', async () => {
    const transport = broken((base) => ({
      write: async (location, options) => {
        const writer = await base.write(location, options);
        const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
        return { stream: sink, commit: () => writer.commit(), abort: () => writer.abort() };
      },
    }));
    await expect(checkWriteBackpressure(contextFor(transport))).rejects.toThrow(/still returned true/);
  });

  it('list: an empty array for a missing directory', async () => {
    const transport = broken(() => ({ list: async () => [] }));
    await expect(checkListMissing(contextFor(transport))).rejects.toThrow(/resolved, but the contract says it rejects with ERR_NOT_FOUND/);
  });
});

describe('seededBytes', () => {
  it('is deterministic and seed-dependent', () => {
    expect(seededBytes(1000, 1).equals(seededBytes(1000, 1))).toBe(true);
    expect(seededBytes(1000, 1).equals(seededBytes(1000, 2))).toBe(false);
    expect(seededBytes(7, 1)).toHaveLength(7);
  });
});
