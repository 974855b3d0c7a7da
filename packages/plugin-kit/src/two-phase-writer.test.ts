import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { twoPhaseWriter, type TwoPhaseWriterOptions } from './two-phase-writer.js';

/** A writer over an in-memory sink whose finish/discard calls are recorded. */
function harness(overrides: Partial<TwoPhaseWriterOptions> = {}) {
  const written: Buffer[] = [];
  const calls: string[] = [];
  const discardReasons: unknown[] = [];
  let visible: Buffer | undefined;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk);
      setImmediate(callback);
    },
  });
  const writer = twoPhaseWriter({
    stream,
    component: 'transport-test',
    operation: 'WRITE',
    display: 'test:///a.bin',
    async finish() {
      calls.push('finish');
      visible = Buffer.concat(written);
    },
    async discard(reason) {
      calls.push('discard');
      discardReasons.push(reason);
    },
    ...overrides,
  });
  return { writer, stream, calls, discardReasons, visible: () => visible };
}

async function endAndFinish(stream: Writable, bytes = 'bytes'): Promise<void> {
  stream.end(Buffer.from(bytes));
  await finished(stream);
}

describe('twoPhaseWriter', () => {
  it('starts open and moves to committed through finish, making the bytes visible only then', async () => {
    const { writer, stream, calls, visible } = harness();
    expect(writer.state).toBe('open');
    await endAndFinish(stream, 'payload');
    expect(visible()).toBeUndefined();
    const committing = writer.commit();
    expect(writer.state).toBe('committing');
    await committing;
    expect(writer.state).toBe('committed');
    expect(visible()?.toString()).toBe('payload');
    expect(calls).toEqual(['finish']);
  });

  it('waits for the stream to finish before calling finish', async () => {
    const { writer, stream, calls } = harness();
    stream.end(Buffer.from('late'));
    expect(stream.writableFinished).toBe(false);
    await writer.commit();
    expect(stream.writableFinished).toBe(true);
    expect(calls).toEqual(['finish']);
  });

  it('refuses commit before stream.end() with a TypeError and stays open', async () => {
    const { writer, calls } = harness();
    await expect(writer.commit()).rejects.toThrow(TypeError);
    await expect(writer.commit()).rejects.toThrow(/call stream\.end\(\) before commit\(\)/);
    expect(writer.state).toBe('open');
    expect(calls).toEqual([]);
  });

  it('returns the same outcome for a second commit and calls finish once', async () => {
    const { writer, stream, calls } = harness();
    await endAndFinish(stream);
    const first = writer.commit();
    const second = writer.commit();
    await Promise.all([first, second]);
    await writer.commit();
    expect(calls).toEqual(['finish']);
  });

  it('aborts from open: destroys the stream, discards once, and a later commit rejects with ERR_ABORTED', async () => {
    const { writer, stream, calls, discardReasons } = harness();
    stream.write(Buffer.from('partial'));
    const reason = new Error('user gave up');
    await writer.abort(reason);
    expect(writer.state).toBe('aborted');
    expect(stream.destroyed).toBe(true);
    expect(discardReasons).toEqual([reason]);
    await expect(writer.commit()).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await writer.abort();
    expect(calls).toEqual(['discard']);
  });

  it('ignores abort after commit and never throws', async () => {
    const { writer, stream, calls } = harness();
    await endAndFinish(stream);
    await writer.commit();
    await expect(writer.abort()).resolves.toBeUndefined();
    expect(writer.state).toBe('committed');
    expect(calls).toEqual(['finish']);
  });

  it('ignores abort during a commit: the commit completes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { writer, stream, calls } = harness({
      async finish() {
        calls.push('finish');
        await gate;
      },
    });
    await endAndFinish(stream);
    const committing = writer.commit();
    const aborting = writer.abort();
    release();
    await committing;
    await aborting;
    expect(writer.state).toBe('committed');
    expect(calls).toEqual(['finish']);
  });

  it('aborts with ERR_ABORTED when the signal fires while open', async () => {
    const controller = new AbortController();
    const { writer, stream, discardReasons } = harness({ signal: controller.signal });
    const errored = new Promise<Error>((resolve) => stream.once('error', resolve));
    controller.abort(new Error('stop'));
    const error = await errored;
    expect(error).toMatchObject({ code: 'ERR_ABORTED' });
    expect(error.message).toBe('[transport-test] WRITE test:///a.bin: aborted');
    expect(writer.state).toBe('aborted');
    expect(discardReasons).toEqual([error]);
    await expect(writer.commit()).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });

  it('rejects the commit with ERR_ABORTED and discards when the signal fired before the commit step', async () => {
    const controller = new AbortController();
    const { writer, stream, calls } = harness({ signal: controller.signal });
    await endAndFinish(stream);
    const committing = writer.commit();
    // Fired after commit was called: the listener leaves the write to the commit, which checks last.
    controller.abort();
    await expect(committing).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(writer.state).toBe('aborted');
    expect(calls).toEqual(['discard']);
  });

  it('turns a failing finish into an aborted write: discard runs, commit rejects with the mapped error', async () => {
    const cause = new Error('rename refused');
    const { writer, stream, calls, discardReasons } = harness({
      async finish() {
        throw cause;
      },
      commitFailure: (error) => new Error(`mapped: ${(error as Error).message}`),
    });
    await endAndFinish(stream);
    await expect(writer.commit()).rejects.toThrow('mapped: rename refused');
    expect(writer.state).toBe('aborted');
    expect(discardReasons).toEqual([cause]);
    expect(calls).toEqual(['discard']);
    await expect(writer.commit()).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });

  it('maps a commit failure to a coded BentoportError by default', async () => {
    const { writer, stream } = harness({
      async finish() {
        throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      },
    });
    await endAndFinish(stream);
    await expect(writer.commit()).rejects.toMatchObject({ code: 'ERR_NOT_FOUND', message: expect.stringContaining('[transport-test] COMMIT test:///a.bin') });
  });

  it('rejects the commit with the stream error when the stream failed, and discards', async () => {
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        setImmediate(() => callback(Object.assign(new Error('disk full'), { code: 'ENOSPC' })));
      },
    });
    broken.on('error', () => {});
    const { writer, calls } = harness({ stream: broken });
    broken.write(Buffer.from('x'));
    broken.end();
    await expect(writer.commit()).rejects.toMatchObject({ code: 'ERR_IO', message: expect.stringContaining('disk full') });
    expect(writer.state).toBe('aborted');
    expect(calls).toEqual(['discard']);
  });

  it('runs committed only after a successful finish, and a throwing discard never escapes abort', async () => {
    const order: string[] = [];
    const { writer, stream } = harness({
      async finish() {
        order.push('finish');
      },
      committed() {
        order.push(`committed:${writer.state}`);
      },
    });
    await endAndFinish(stream);
    await writer.commit();
    expect(order).toEqual(['finish', 'committed:committed']);

    const failing = harness({
      async discard() {
        throw new Error('cleanup failed');
      },
    });
    await expect(failing.writer.abort()).resolves.toBeUndefined();
  });
});
