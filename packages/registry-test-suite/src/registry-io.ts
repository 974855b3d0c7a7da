import type { ProgressEvent, Registry, RegistryItemRef, RegistryOperationOptions, RegistryPushItem, RegistryPushOptions, RegistryPushResult } from '@bentoport/spec';
import { within } from './assertions.js';
import { recordsOf, type EntryRecord } from './entry-records.js';
import { assert } from 'vitest';

export function label(ref: RegistryItemRef): string {
  return `${ref.kind} ${ref.name}:${ref.version}`;
}

/** "Every field is optional", but those present have their documented types. */
function checkPushResult(result: RegistryPushResult | void, what: string): void {
  if (result === undefined) return;
  assert(typeof result === 'object' && result !== null, `${what} resolved with ${String(result)}, not an object or undefined`);
  for (const field of ['location', 'digest'] as const) {
    assert(result[field] === undefined || typeof result[field] === 'string', `${what}: result.${field} must be a string`);
  }
  for (const field of ['bytesUploaded', 'bytesSkipped'] as const) {
    const value = result[field];
    assert(value === undefined || (Number.isSafeInteger(value) && value >= 0), `${what}: result.${field} must be a non-negative integer, got ${String(value)}`);
  }
}

export interface PushRecord {
  result: RegistryPushResult | void;
  events: ProgressEvent[];
}

/** Push, bounded in time, recording progress events and checking the result's shape. */
export async function push(registry: Registry, item: RegistryPushItem, options: RegistryPushOptions = {}): Promise<PushRecord> {
  const events: ProgressEvent[] = [];
  const what = `push(${label(item.ref)})`;
  const result = await within(
    registry.push(item, {
      ...options,
      onProgress: (event) => {
        events.push(event);
        options.onProgress?.(event);
      },
    }),
    what,
  );
  checkPushResult(result, what);
  return { result, events };
}

/** Push a bento as core does: its models first (where the registry keeps them separately), then the bento. */
export async function pushWithModels(registry: Registry, bento: RegistryPushItem): Promise<PushRecord> {
  if (registry.capabilities.separateModels) for (const model of bento.models) await push(registry, model);
  return push(registry, bento);
}

/** `has`, bounded in time. */
export async function has(registry: Registry, ref: RegistryItemRef): Promise<boolean> {
  return within(registry.has(ref), `has(${label(ref)})`);
}

/** Pull an item into records (bodies hashed), bounded in time. */
export async function pullRecords(registry: Registry, ref: RegistryItemRef, options: RegistryOperationOptions = {}): Promise<EntryRecord[]> {
  return within(recordsOf(registry.pull(ref, options)), `pull(${label(ref)})`);
}

/**
 * The bytes a push sent: `bytesUploaded` when the result has it, else the last `bytes` progress
 * event's `bytesDone`; undefined when the registry reports neither.
 */
export function bytesSent(record: { result?: RegistryPushResult | void; events: ProgressEvent[] }): number | undefined {
  if (record.result?.bytesUploaded !== undefined) return record.result.bytesUploaded;
  const done = record.events.flatMap((event) => (event.type === 'bytes' ? [event.bytesDone] : []));
  return done.length === 0 ? undefined : Math.max(...done);
}

/** The first `next()` of a pull; a synchronous throw from `pull` itself breaks the contract. */
export async function firstNext(registry: Registry, ref: RegistryItemRef, options: RegistryOperationOptions = {}): Promise<unknown> {
  let iterable: AsyncIterable<unknown>;
  try {
    iterable = registry.pull(ref, options);
  } catch (error) {
    assert.fail(`pull(${label(ref)}) threw at once (${String(error)}); the contract says its first next() rejects`);
  }
  const iterator = iterable[Symbol.asyncIterator]();
  try {
    return await iterator.next();
  } finally {
    void iterator.return?.()?.catch(() => {});
  }
}
