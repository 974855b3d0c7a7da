import { BentoportError, type ArchiveEntry, type RegistryItemRef, type RegistryOperationOptions } from '@bentoport/spec';
import { LAYER_FORMAT, itemLayer, modelLayers, type Descriptor } from './artifact-layout.js';
import { layerEntries } from './layer-entries.js';
import { fetchManifest } from './manifests.js';
import type { OciContext } from './oci-context.js';
import { itemRepository } from './repository-names.js';

/**
 * Pull one item as entries: its manifest, then its layer, verified as it streams.
 * @throws {BentoportError} ERR_NOT_FOUND (from the first `next()`), ERR_CORRUPT_ARCHIVE (before the
 * iteration ends), ERR_AUTH, ERR_IO, ERR_ABORTED.
 */
export async function* pullItem(context: OciContext, ref: RegistryItemRef, options: RegistryOperationOptions): AsyncGenerator<ArchiveEntry> {
  const { repository, layer } = await locateItemLayer(context, ref, options.signal);
  yield* layerEntries(context, repository, layer, LAYER_FORMAT[ref.kind], options.signal, options.onProgress);
}

/**
 * The bytes a pull of `ref` downloads: its layer's size from the manifest, no blob read.
 * @throws {BentoportError} ERR_NOT_FOUND, ERR_CORRUPT_ARCHIVE, ERR_AUTH, ERR_IO.
 */
export async function itemPullSize(context: OciContext, ref: RegistryItemRef, options: RegistryOperationOptions): Promise<number> {
  return (await locateItemLayer(context, ref, options.signal)).layer.size;
}

/**
 * The repository and layer that hold an item. A bento's manifest also names its models' layers,
 * remembered so a model whose own `models/<name>` manifest is missing (a bento copied alone, e.g.
 * by skopeo) is still found in the bento's repository.
 */
async function locateItemLayer(context: OciContext, ref: RegistryItemRef, signal: AbortSignal | undefined): Promise<{ repository: string; layer: Descriptor }> {
  const tag = `${ref.name}:${ref.version}`;
  const repository = itemRepository(context.prefix, ref.kind, ref.name);
  const fetched = await fetchManifest(context, repository, ref.version, signal);
  if (fetched) {
    const layer = itemLayer(fetched.manifest, ref, `${context.host}/${repository}:${ref.version}`);
    if (ref.kind === 'bento') {
      for (const [modelTag, modelLayer] of modelLayers(fetched.manifest)) context.modelLayersSeen.set(modelTag, { repository, layer: modelLayer });
    }
    return { repository, layer };
  }
  const seen = ref.kind === 'model' ? context.modelLayersSeen.get(tag) : undefined;
  if (seen) return seen;
  throw new BentoportError(
    'ERR_NOT_FOUND',
    `[registry-oci] ${ref.kind === 'bento' ? 'Bento' : 'Model'} "${tag}" not found on remote registry ${context.display} (${context.host}/${repository}:${ref.version})`,
  );
}
