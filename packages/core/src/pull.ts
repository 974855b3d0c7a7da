import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { BentoportError, isBentoportError, type ItemMetadata, type ProgressEvent, type Registry, type RegistryItemRef, type VerifiedSignature } from '@bentoport/spec';
import { missingSignatureError, stagedSignatureCheck, storeItemSignature, type VerifyOptions } from './item-signatures.js';
import { requiredSignature } from './signature-policy.js';
import { FileDigests } from './file-digests.js';
import { operationError, progressEmitter, storeOf, type Emit, type EngineContext } from './engine-context.js';
import { installModels, runImportPipeline, withStaging, type ModelNotices, type StagedModels } from './import-pipeline.js';
import { loadItemMetadata, TYPE_NAME, type ItemStore, type StoreItem } from './item-store.js';
import { chooseRegistry, type PullOptions, type PullResult } from './push-pull.js';
import { extractEntries } from './safe-extract.js';
import { sweepStaleStagingAndTell } from './staging.js';
import { formatTag, parseTag } from './tag.js';
import type { ItemKind } from './target.js';
import { transferProgress, type TransferProgress } from './transfer-progress.js';

/** Pulled files from this size on are hashed for a signature check on a worker thread (see import-item.ts). */
const PULL_THREADED_DIGEST_BYTES = 8 * 1024 * 1024;

const PULL_NOTICES: ModelNotices = {
  operation: 'pull',
  installed: (tag) => `Model "${tag}" pulled into the model store`,
};

/**
 * Source → decode → stage for a registry: safe-extract the entries it delivers for `ref`. The
 * registry's `bytes` events count this item from 0; `progress` turns them into one bar across
 * every item of the pull, labelled with this one, never counting a re-read byte twice.
 */
async function stagePulled(
  context: EngineContext,
  registry: Registry,
  ref: RegistryItemRef,
  directory: string,
  signal: AbortSignal | undefined,
  emit: Emit,
  progress: TransferProgress,
  fileDigests?: FileDigests,
): Promise<void> {
  const label = `${ref.kind} ${ref.name}:${ref.version}`;
  emit({ type: 'phase', phase: 'transfer', target: registry.url, item: label });
  const itemProgress = progress.start(label);
  const onProgress = (event: ProgressEvent) => (event.type === 'bytes' ? itemProgress.reached(event.bytesDone, event.bytesTotal) : emit(event));
  await extractEntries(registry.pull(ref, { signal, onProgress }), directory, { limits: context.limits, signal, ...(fileDigests ? { fileDigests } : {}) });
  itemProgress.finish();
}

/**
 * The pulled item's yaml, checked against what was asked for.
 * @throws {BentoportError} ERR_INVALID_METADATA without a yaml, ERR_CORRUPT_ARCHIVE when the
 * registry delivered another item.
 */
async function verifyPulled(registry: Registry, ref: RegistryItemRef, directory: string): Promise<ItemMetadata> {
  const refText = `${ref.name}:${ref.version}`;
  const metadata = await loadItemMetadata(ref.kind, directory);
  if (!metadata) {
    throw new BentoportError(
      'ERR_INVALID_METADATA',
      `[${registry.name}] pull ${refText} from ${registry.url}: the ${ref.kind} has no '${ref.kind === 'bento' ? 'bento.yaml' : 'model.yaml'}'`,
    );
  }
  if (metadata.tag.name !== ref.name || (ref.version !== 'latest' && metadata.tag.version !== ref.version)) {
    throw new BentoportError(
      'ERR_CORRUPT_ARCHIVE',
      `[${registry.name}] pull ${refText}: the registry delivered '${formatTag(metadata.tag)}' instead; nothing was stored`,
    );
  }
  return metadata;
}

/**
 * Download into `staging` the models `bento` uses that the local model store lacks, and verify
 * each; none is installed yet. Models travel as items of their own, so a bento's embedded copy
 * is never used.
 */
async function stageMissingModels(
  context: EngineContext,
  registry: Registry,
  bento: ItemMetadata,
  staging: string,
  signal: AbortSignal | undefined,
  emit: Emit,
  progress: TransferProgress,
  fileDigests?: FileDigests,
): Promise<StagedModels> {
  const models: StagedModels = { staged: [], present: [] };
  const missing: RegistryItemRef[] = [];
  for (const reference of bento.models) {
    if (reference.registry !== 'bentoml') continue;
    const modelTag = formatTag(reference.tag);
    if (missing.some((ref) => `${ref.name}:${ref.version}` === modelTag) || (await context.models.has(reference.tag))) {
      models.present.push(modelTag);
      continue;
    }
    missing.push({ kind: 'model', name: reference.tag.name, version: reference.tag.version });
  }
  progress.plan(await downloadSize(registry, missing, signal));
  for (const ref of missing) {
    const directory = path.join(staging, 'models', ref.name, ref.version);
    await mkdir(directory, { recursive: true });
    await stagePulled(context, registry, ref, directory, signal, emit, progress, fileDigests);
    emit({ type: 'phase', phase: 'verify' });
    models.staged.push({ directory, metadata: await verifyPulled(registry, ref, directory) });
  }
  return models;
}

/**
 * What pulling `refs` would download, when the registry can tell for each (its optional `size`),
 * so the bar has its total before the bytes flow; undefined otherwise.
 */
async function downloadSize(registry: Registry, refs: RegistryItemRef[], signal: AbortSignal | undefined): Promise<number | undefined> {
  if (!registry.size) return undefined;
  let total = 0;
  for (const ref of refs) {
    const size = await registry.size(ref, { signal });
    if (size === undefined) return undefined;
    total += size;
  }
  return total;
}

/** Pull the models a local bento lacks: all staged and verified, then all installed or none. */
async function pullMissingModels(
  context: EngineContext,
  registry: Registry,
  bento: StoreItem,
  signal: AbortSignal | undefined,
  emit: Emit,
): Promise<{ pulled: string[]; skipped: string[] }> {
  return withStaging(context, async (staging) => {
    const models = await stageMissingModels(context, registry, bento.metadata, staging, signal, emit, transferProgress(emit, { totalPending: true }));
    if (models.staged.length > 0) emit({ type: 'phase', phase: 'commit' });
    const installed = await installModels(context, models.staged, emit, PULL_NOTICES);
    return { pulled: installed.installed.map((model) => formatTag(model.tag)), skipped: [...models.present, ...installed.skipped] };
  });
}

async function localCopy(store: ItemStore, tagLike: string): Promise<StoreItem | undefined> {
  try {
    return await store.get(tagLike);
  } catch (error) {
    if (!isBentoportError(error, 'ERR_NOT_FOUND')) throw error;
    return undefined;
  }
}

/** Whether `registry` can name its newest version of an item (the optional `latest` capability). */
function resolvesLatest(registry: Registry): registry is Registry & Required<Pick<Registry, 'latest'>> {
  return registry.capabilities.latestVersion === true && typeof registry.latest === 'function';
}

/**
 * The tag a pull looks for: `name` and `name:latest` become the registry's newest version when it
 * can say which (BentoML resolves a model's latest on the remote the same way); otherwise the tag
 * as given, which the local store resolves.
 */
async function remoteTag(registry: Registry, kind: ItemKind, tagLike: string, signal: AbortSignal | undefined, emit: Emit): Promise<string> {
  const tag = parseTag(tagLike);
  if ((tag.version !== undefined && tag.version !== 'latest') || !resolvesLatest(registry)) return tagLike;
  const version = await registry.latest(kind, tag.name, { signal, onProgress: emit });
  return formatTag({ name: tag.name, version });
}

/**
 * The signature the registry holds for `ref`, read before the item is downloaded, so a required
 * one that is missing costs no download. A registry without signatures, or one that does not
 * hold the item (the pull then says so), gives none.
 * @throws {BentoportError} ERR_SIGNATURE when one is required and there is none.
 */
async function pulledSignature(registry: Registry, ref: RegistryItemRef, options: PullOptions, policy: VerifyOptions | undefined, emit: Emit): Promise<string | undefined> {
  let text: string | undefined;
  if (registry.capabilities.signatures === true && typeof registry.getSignature === 'function') {
    try {
      text = await registry.getSignature(ref, { signal: options.signal, onProgress: emit });
    } catch (error) {
      if (!isBentoportError(error, 'ERR_NOT_FOUND')) throw error;
    }
  }
  if (policy !== undefined && text === undefined) {
    const why = registry.capabilities.signatures === true ? `${registry.url} holds no signature of it` : `${registry.url} cannot hold signatures`;
    throw missingSignatureError(`${ref.kind} ${ref.name}:${ref.version}`, policy, why, 'pulled');
  }
  return text;
}

/**
 * Pull an item: the local store is checked first (a bento there only gets its missing models);
 * `force` replaces only that version, after the new copy is verified. A tag without a version
 * (or `latest`) means the registry's newest version when the registry declares `latestVersion`. A bento's missing models
 * are staged beside it and enter the store with it, or not at all.
 */
export async function pull(context: EngineContext, kind: ItemKind, tagLike: string, options: PullOptions = {}): Promise<PullResult> {
  const emit = progressEmitter(context, 'pull', options.onProgress);
  const signal = options.signal;
  const withModels = kind === 'bento' && (options.withModels ?? true);
  await sweepStaleStagingAndTell(context.home, emit);
  emit({ type: 'phase', phase: 'resolve' });
  const registry = await chooseRegistry(context.plugins.registries, options.registry);
  try {
    const wanted = await remoteTag(registry, kind, tagLike, signal, emit);
    const tag = parseTag(wanted);
    const local = await localCopy(storeOf(context, kind), wanted);
    if (local && !options.force) {
      emit({ type: 'notice', message: `${TYPE_NAME[kind]} "${formatTag(local.tag)}" exists in local ${kind} store` });
      const fetched = withModels ? await pullMissingModels(context, registry, local, signal, emit) : { pulled: [], skipped: [] };
      return { item: local, registry: registry.url, skipped: true, replaced: false, modelsPulled: fetched.pulled, modelsSkipped: fetched.skipped };
    }
    const version = local?.tag.version ?? tag.version;
    if (version === undefined) {
      throw new BentoportError('ERR_INVALID_TAG', `${TYPE_NAME[kind]} "${tag.name}" version can not be None; pull an explicit version (name:version)`);
    }
    const ref: RegistryItemRef = { kind, name: tag.name, version };
    const policy = requiredSignature(options, `${registry.url}/${ref.name}`, `${ref.kind} ${ref.name}:${ref.version}`, 'pulled');
    const signatureText = await pulledSignature(registry, ref, options, policy, emit);
    let signedBy: VerifiedSignature | undefined;
    // A bento's models are known once it is staged; until then no total, so the bar does not
    // show the small bento at 100% and fall back when its models start.
    const progress = transferProgress(emit, { totalPending: withModels });
    // A required signature is checked against digests taken while the files are written.
    const fileDigests = policy === undefined ? undefined : new FileDigests({ threadedFromBytes: PULL_THREADED_DIGEST_BYTES });
    const installed = await runImportPipeline(context, {
      kind,
      emit,
      notices: PULL_NOTICES,
      replace: local !== undefined,
      stage: (directory) => stagePulled(context, registry, ref, directory, signal, emit, progress, fileDigests),
      verify: (directory) => verifyPulled(registry, ref, directory),
      models: async (_directory, staging, metadata) =>
        withModels ? stageMissingModels(context, registry, metadata, staging, signal, emit, progress, fileDigests) : { staged: [], present: [] },
      ...(policy === undefined || fileDigests === undefined
        ? {}
        : {
            check: stagedSignatureCheck(
              context,
              kind,
              { text: signatureText as string, where: `the signature in ${registry.url}`, fileDigests },
              policy,
              (signer) => (signedBy = signer),
            ),
          }),
    }).finally(() => fileDigests?.destroy());
    if (signatureText !== undefined) await storeItemSignature(context, installed.item, signatureText);
    emit({ type: 'notice', message: `Successfully pulled ${TYPE_NAME[kind]} "${formatTag(installed.item.tag)}"` });
    return {
      item: installed.item,
      registry: registry.url,
      skipped: false,
      replaced: local !== undefined,
      modelsPulled: installed.modelsInstalled,
      modelsSkipped: installed.modelsSkipped,
      ...(signedBy ? { signedBy } : {}),
    };
  } catch (error) {
    throw operationError(error, signal, registry.name, 'pull', `${tagLike} from ${registry.url}`);
  }
}
