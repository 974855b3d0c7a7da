import type { Readable } from 'node:stream';
import { BentoportError, type ItemMetadata, type Location, type Transport } from '@bentoport/spec';
import { lazyReadable } from './archive-source.js';
import type { EngineContext } from './engine-context.js';
import { readSmallText } from './sidecar-files.js';
import { parseBentoYaml, parseModelYaml } from './metadata.js';
import type { ItemKind } from './target.js';

/**
 * An item's yaml read from the head of its archive with ranged reads, so listing a store without
 * an index never downloads weights: the entries are sorted by path, and `bento.yaml` comes
 * before `env/`, `models/` and `src/`. The first read takes 64 KiB; when the yaml is not within
 * it, the next takes eight times as much, up to the whole archive.
 */

const FIRST_READ_BYTES = 64 * 1024;
const GROWTH = 8;
/** A yaml larger than this is not an item's yaml. */
const YAML_MAX_BYTES = 16 * 1024 * 1024;
const YAML_NAME: Record<ItemKind, string> = { bento: 'bento.yaml', model: 'model.yaml' };

/** An item's archive in a remote store: where it is, what it holds, how it is encoded. */
export interface StoredArchive {
  transport: Transport;
  location: Location;
  kind: ItemKind;
  /** The archive's format token (`bentomodel`, `tar`, …). */
  format: string;
  /** The archive's byte length. */
  size: number;
}

/** The yaml's text within the first `end` bytes, or undefined when it lies further. */
async function yamlWithin(context: EngineContext, archive: StoredArchive, end: number, signal: AbortSignal | undefined): Promise<string | undefined> {
  const { transport, location, kind, format, size } = archive;
  const codec = context.plugins.formatFor(format);
  const ranged = transport.capabilities.rangedReads;
  const open = (start: number, stop: number): Readable => lazyReadable(() => transport.read(location, ranged ? { start, end: stop, signal } : { signal }));
  const source = codec.capabilities.randomAccessDecode ? { size, stream: () => open(0, size), readRange: open } : { size, stream: () => open(0, end) };
  try {
    for await (const entry of codec.decode(source, { format, signal })) {
      if (entry.path !== YAML_NAME[kind] || entry.type !== 'file' || !entry.open) continue;
      return await readSmallText(entry.open(), YAML_MAX_BYTES);
    }
  } catch (error) {
    // A head cut short ends the decoder with an error; the whole archive's error is real.
    if (end >= size) throw error;
    return undefined;
  }
  return undefined;
}

/**
 * The item's yaml as written (for `get URL/TAG`) and its metadata, from the head of its archive
 * at `location`: ranged reads that grow until the yaml is whole, never the weights behind it.
 * @throws {BentoportError} ERR_INVALID_METADATA when the archive holds no yaml, the codec's and
 * transport's errors.
 */
export async function readArchiveYaml(context: EngineContext, archive: StoredArchive, signal: AbortSignal | undefined): Promise<{ metadata: ItemMetadata; text: string }> {
  const { location, kind, size } = archive;
  for (let end = Math.min(FIRST_READ_BYTES, size); ; end = Math.min(end * GROWTH, size)) {
    const text = await yamlWithin(context, archive, end, signal);
    if (text !== undefined) return { metadata: kind === 'bento' ? parseBentoYaml(text) : parseModelYaml(text), text };
    if (end >= size) throw new BentoportError('ERR_INVALID_METADATA', `${location.display} holds no ${YAML_NAME[kind]}`);
  }
}
