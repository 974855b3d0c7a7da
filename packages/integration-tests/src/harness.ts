import { createBentoport, type Bentoport, type BentoportOptions, type ProgressEvent } from '@bentoport/core';
import { bz2Format } from '@bentoport/format-bz2';
import { tarFormat } from '@bentoport/format-tar';
import { xzFormat } from '@bentoport/format-xz';
import { zipFormat } from '@bentoport/format-zip';
import { makeScratchDir } from '@bentoport/test-utils';
import { fsTransport } from '@bentoport/transport-fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

/** A bentoport over `home` with every plugin this repository ships, collecting its events. */
export function bentoportAt(home: string, extra: Partial<BentoportOptions> = {}): Bentoport & { events: ProgressEvent[] } {
  const events: ProgressEvent[] = [];
  const instance = createBentoport({
    home,
    formats: [xzFormat(), tarFormat(), zipFormat(), bz2Format()],
    transports: [fsTransport()],
    onProgress: (event) => events.push(event),
    ...extra,
  });
  return Object.assign(instance, { events });
}

/** A fresh scratch directory with `a/` and `b/` homes inside. */
export async function scratch(prefix: string): Promise<{ root: string; homeA: string; homeB: string }> {
  const root = await makeScratchDir(prefix);
  return { root, homeA: path.join(root, 'a'), homeB: path.join(root, 'b') };
}

/** Every path under a directory, for "nothing changed / nothing left behind" checks. */
export async function listTree(directory: string): Promise<string[]> {
  try {
    const entries = await readdir(directory, { recursive: true });
    return entries.map(String).sort();
  } catch {
    return [];
  }
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the operation to fail');
}
