import type { ErrorCode } from '@bentoport/spec';
import { describeError, expectCoded } from '../assertions.js';
import { sourceFor } from '../archive-io.js';
import type { CheckContext } from '../check-context.js';
import { seededBytes } from '../seeded-bytes.js';
import { decodeOutcome } from '../stream-outcome.js';
import { assert } from 'vitest';

const DECODE_MILLISECONDS = 10_000;

/** Decode damaged bytes, reading every body; the outcome must be ERR_CORRUPT_ARCHIVE (or one of `alsoAllowed`), in time. */
async function expectCorrupt(context: CheckContext, bytes: Uint8Array, what: string, options: { mayEnd?: boolean; alsoAllowed?: ErrorCode[] } = {}): Promise<void> {
  const outcome = await decodeOutcome(() => context.format.decode(sourceFor(context.format, bytes), { format: context.token }), DECODE_MILLISECONDS);
  assert(outcome.kind !== 'timeout', `decoding ${what} (${context.token}) neither failed nor ended within ${DECODE_MILLISECONDS / 1000} s`);
  if (outcome.kind === 'end') {
    assert(options.mayEnd === true, `decoding ${what} (${context.token}) ended normally after ${outcome.entries} entries; it must fail with ERR_CORRUPT_ARCHIVE`);
    return;
  }
  expectCoded(outcome.error, ['ERR_CORRUPT_ARCHIVE', ...(options.alsoAllowed ?? [])], `decoding ${what} (${context.token})`);
}

/** Bytes that are not an archive — random, or the format's own first 512 bytes followed by random bytes — fail with ERR_CORRUPT_ARCHIVE. */
export async function checkGarbage(context: CheckContext): Promise<void> {
  await expectCorrupt(context, seededBytes(64 * 1024, 401), '64 KiB of random bytes');
  const archive = await context.archive('plain');
  const head = archive.subarray(0, Math.min(512, archive.length >> 1));
  await expectCorrupt(context, Buffer.concat([head, seededBytes(64 * 1024, 402)]), `the archive's first ${head.length} bytes followed by random bytes`);
}

/** An archive cut short — after 10 bytes, a quarter, half, three quarters — fails with ERR_CORRUPT_ARCHIVE. */
export async function checkTruncated(context: CheckContext): Promise<void> {
  const archive = await context.archive('plain');
  for (const length of [10, archive.length >> 2, archive.length >> 1, Math.floor(archive.length * 0.75)]) {
    await expectCorrupt(context, archive.subarray(0, length), `the archive cut to ${length} of ${archive.length} bytes`);
  }
}

const FLIPS = 24;

/**
 * One byte flipped, at 24 places spread over the archive: each decode either completes (a flip
 * in a body a container does not checksum goes unnoticed) or fails with ERR_CORRUPT_ARCHIVE
 * (ERR_UNSUPPORTED_FORMAT where the flip made a field name an unsupported feature) — never another
 * error, a plain Error, or a hang.
 */
export async function checkByteFlips(context: CheckContext): Promise<void> {
  const archive = await context.archive('plain');
  assert(archive.length > 0, `the archive (${context.token}) is empty`);
  const failures: string[] = [];
  for (let index = 0; index < FLIPS; index++) {
    const offset = Math.floor(((index + 0.5) * archive.length) / FLIPS);
    const damaged = Buffer.from(archive);
    damaged[offset] = (damaged[offset] ?? 0) ^ 0xff;
    try {
      await expectCorrupt(context, damaged, `the archive with byte ${offset} of ${archive.length} flipped`, { mayEnd: true, alsoAllowed: ['ERR_UNSUPPORTED_FORMAT'] });
    } catch (error) {
      failures.push(error instanceof Error ? error.message : describeError(error));
    }
  }
  if (failures.length > 0) assert.fail(`${failures.length} of ${FLIPS} flips: ${failures.slice(0, 3).join(' | ')}`);
}
