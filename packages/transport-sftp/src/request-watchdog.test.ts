import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { RequestWatchdog } from './request-watchdog.js';

describe('RequestWatchdog', () => {
  it('fails outstanding requests with a transient timeout once no reply came for timeoutMs', async () => {
    let stalls = 0;
    const watchdog = new RequestWatchdog(100, () => stalls++);
    const started = Date.now();
    const silent = watchdog.track(new Promise(() => {}));
    await expect(silent).rejects.toMatchObject({ code: 'ETIMEDOUT', message: 'no reply from the SFTP server within 100 ms (timeoutMs)' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(stalls).toBe(1);
    await expect(watchdog.track(Promise.resolve(1))).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('lets a long transfer through while replies keep coming, and ignores quiet spells with nothing outstanding', async () => {
    let stalls = 0;
    const watchdog = new RequestWatchdog(100, () => stalls++);
    // One request outstanding for three timeouts, while others keep answering.
    const long = watchdog.track(sleep(300).then(() => 'long'));
    for (let reply = 0; reply < 8; reply++) await watchdog.track(sleep(40));
    await expect(long).resolves.toBe('long');
    await sleep(250);
    await expect(watchdog.track(sleep(40).then(() => 'late'))).resolves.toBe('late');
    expect(stalls).toBe(0);
    watchdog.dispose();
  });

  it('keeps no answered request\'s result alive (a READ buffer must be collectable once handed on)', async () => {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const watchdog = new RequestWatchdog(60_000, () => {});
    const answered: Array<WeakRef<Buffer>> = [];
    for (let request = 0; request < 8; request++) {
      const buffer = await watchdog.track(Promise.resolve(Buffer.alloc(1024 * 1024, request)));
      answered.push(new WeakRef(buffer));
    }
    await sleep(0);
    collect();
    await sleep(0);
    collect();
    // The last may still be referenced from the await that took it; the seven before it must be gone.
    expect(answered.filter((reference) => reference.deref() !== undefined).length).toBeLessThanOrEqual(1);
    watchdog.dispose();
  });
});
