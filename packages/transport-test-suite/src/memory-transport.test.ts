import type { Location } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { memoryTransport } from './memory-transport.js';
import { runTransportSuite } from './run-transport-suite.js';

function memoryLocation(path: string): Location {
  return { protocol: 'memory', host: '', path, query: '', display: `memory://${path}` };
}

runTransportSuite({
  name: 'memory (reference)',
  transport: memoryTransport(),
  location: (relativePath) => memoryLocation(`/suite/${relativePath}`),
});

// The same transport with every optional capability off: the suite must skip, not fail.
runTransportSuite({
  name: 'memory without optional capabilities',
  transport: () => memoryTransport({ capabilities: { rangedReads: false, list: false, delete: false, atomicCommit: false } }),
  location: (relativePath) => memoryLocation(`/bare/${relativePath}`),
});

describe('memoryTransport', () => {
  it('keeps each store private to its transport', async () => {
    const first = memoryTransport();
    const second = memoryTransport();
    const location = memoryLocation('/private.bin');
    const writer = await first.write(location);
    writer.stream.end(Buffer.from('x'));
    await new Promise((resolve) => writer.stream.once('finish', resolve));
    await writer.commit();
    await expect(first.stat(location)).resolves.toMatchObject({ type: 'file', size: 1 });
    await expect(second.stat(location)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('reports directories implied by object paths', async () => {
    const transport = memoryTransport();
    const writer = await transport.write(memoryLocation('/dir/sub/file.bin'));
    writer.stream.end(Buffer.from('abc'));
    await new Promise((resolve) => writer.stream.once('finish', resolve));
    await writer.commit();
    await expect(transport.stat(memoryLocation('/dir'))).resolves.toMatchObject({ type: 'directory' });
    await expect(transport.list!(memoryLocation('/dir'))).resolves.toEqual([{ name: 'sub', type: 'directory', size: 0 }]);
    await expect(transport.read(memoryLocation('/dir'))).rejects.toMatchObject({ code: 'ERR_INVALID_TARGET' });
  });

  it('rejects another protocol with ERR_UNSUPPORTED_PROTOCOL', async () => {
    const location = { ...memoryLocation('/x'), protocol: 's3' };
    await expect(memoryTransport().stat(location)).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_PROTOCOL' });
  });

  it('refuses a commit before the stream ended, with a TypeError', async () => {
    const writer = await memoryTransport().write(memoryLocation('/early.bin'));
    await expect(writer.commit()).rejects.toBeInstanceOf(TypeError);
    await writer.abort();
  });

  it('rejects a commit after abort with ERR_ABORTED, and abort never throws', async () => {
    const transport = memoryTransport();
    const location = memoryLocation('/aborted.bin');
    const writer = await transport.write(location);
    writer.stream.end(Buffer.from('x'));
    await writer.abort();
    await expect(writer.abort()).resolves.toBeUndefined();
    await expect(writer.commit()).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await expect(transport.stat(location)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('destroys the writer stream with ERR_ABORTED when the signal fires', async () => {
    const controller = new AbortController();
    const writer = await memoryTransport().write(memoryLocation('/signalled.bin'), { signal: controller.signal });
    const failed = new Promise((resolve) => writer.stream.once('error', resolve));
    controller.abort();
    await expect(failed).resolves.toMatchObject({ code: 'ERR_ABORTED' });
    await expect(writer.commit()).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });

  it('validates its options', () => {
    expect(() => memoryTransport({ readHighWaterMark: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });
});
