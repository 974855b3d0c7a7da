import { Transform } from 'node:stream';
import type { ArchiveEntry, RegistryPushItem } from '@bentoport/spec';

/** Watches the bodies a registry reads from a push item, and can act once a number of bytes was read. */
export interface BodyTap {
  /** Body bytes read so far, over every walk of `entries()`. */
  read: number;
  /** When `read` first reaches `bytes`: run `action` (fire a signal), or fail the body being read with `error`, once. */
  trigger?: { bytes: number; action?: () => void; error?: Error };
}

function tappedBody(body: NodeJS.ReadableStream, tap: BodyTap): Transform {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      tap.read += chunk.length;
      const trigger = tap.trigger;
      if (trigger !== undefined && tap.read >= trigger.bytes) {
        tap.trigger = undefined;
        trigger.action?.();
        if (trigger.error !== undefined) {
          callback(trigger.error);
          return;
        }
      }
      callback(null, chunk);
    },
  });
  body.on('error', (error) => counter.destroy(error));
  counter.on('close', () => (body as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.());
  return body.pipe(counter);
}

/** The same item, with every body it hands out counted (and acted on) by `tap`. */
export function tapped(item: RegistryPushItem, tap: BodyTap): RegistryPushItem {
  async function* entries(): AsyncGenerator<ArchiveEntry> {
    for await (const entry of item.entries()) {
      // Without its whole-body shortcut, so that every body a registry reads passes the tap.
      const { open, readWhole: _untapped, ...rest } = entry;
      yield open === undefined ? rest : { ...rest, open: () => tappedBody(open(), tap) };
    }
  }
  return { ...item, entries };
}
