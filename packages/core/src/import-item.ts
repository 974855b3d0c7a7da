import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { BentoportError, type Location, type VerifiedSignature } from '@bentoport/spec';
import { extractArchive, hashedArchive, sniffArchive, type ArchiveInput } from './archive-source.js';
import type { ImportOptions, ImportResult, ImportSource } from './bentoport-types.js';
import { expectedDigest, readSignatureSidecar } from './sidecar-files.js';
import { missingSignatureError, stagedSignatureCheck, storeItemSignature, type VerifyOptions } from './item-signatures.js';
import { requiredSignature } from './signature-policy.js';
import { readEmbeddedModels } from './embedded-models.js';
import { FileDigests } from './file-digests.js';
import { operationError, progressEmitter, type Emit, type EngineContext } from './engine-context.js';
import { folderSource } from './folder.js';
import { runImportPipeline, type ModelNotices, type StagedModels } from './import-pipeline.js';
import { itemEntries } from './item-entries.js';
import { requireItemMetadata } from './item-store.js';
import { extractEntries } from './safe-extract.js';
import { sweepStaleStagingAndTell } from './staging.js';
import { Sha256Thread } from './threaded-sha256.js';
import { resolveImportSource, type ItemKind } from './target.js';

const IMPORT_NOTICES: ModelNotices = {
  operation: 'import',
  installed: (tag) => `Model ${tag} imported into the model store.`,
  skipped: (tag) => `Model ${tag} already exists in the global model store, skipping copy.`,
};

async function embeddedModels(bentoDirectory: string): Promise<StagedModels> {
  return { staged: await readEmbeddedModels(bentoDirectory), present: [] };
}

/**
 * Import an archive (a path, a URL or a stream) or, with format `folder`, a local directory:
 * embedded models go to the model store (existing ones skipped), the item enters without
 * `models/`, all through {@link runImportPipeline}.
 */
export async function importItem(
  context: EngineContext,
  kind: ItemKind,
  source: ImportSource,
  inputFormat: string | undefined,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const emit = progressEmitter(context, 'import', options.onProgress);
  await sweepStaleStagingAndTell(context.home, emit);
  emit({ type: 'phase', phase: 'resolve' });
  if (typeof source !== 'string') {
    const input: ArchiveInput = { display: '-', format: inputFormat, explicitFormat: inputFormat !== undefined };
    return importArchive(context, kind, input, async () => source, options, emit);
  }
  const resolved = resolveImportSource(source, inputFormat, options, kind, context.cwd);
  if (resolved.format === 'folder') return importFolder(context, kind, resolved.location, emit, options);
  const { location } = resolved;
  const transport = context.plugins.transportFor(location.protocol, location.display);
  const info = await transport.stat(location, { signal: options.signal, onProgress: emit });
  if (info.type === 'directory') {
    throw new BentoportError('ERR_INVALID_TARGET', `${location.display} is a directory, not an archive (use format folder to import a directory)`);
  }
  const input: ArchiveInput = { display: location.display, transport, location, size: info.size, format: resolved.format, explicitFormat: resolved.explicitFormat };
  return importArchive(context, kind, input, () => transport.read(location, { signal: options.signal, onProgress: emit }), options, emit);
}

/** Import an archive; `open` starts reading it (after the checksum sidecar was read). */
async function importArchive(
  context: EngineContext,
  kind: ItemKind,
  input: ArchiveInput,
  open: () => Promise<Readable>,
  options: ImportOptions,
  emit: Emit,
): Promise<ImportResult> {
  const signal = options.signal;
  const expected = await expectedDigest(options.sha256, input.transport, input.location, signal);
  const policy = requiredSignature(options, input.display, `[import] ${input.display}`, 'imported');
  const signatureText = await importSignature(input, options.signal, policy);
  let signedBy: VerifiedSignature | undefined;
  // A required signature is checked against digests taken while the files are written, on one
  // thread shared with the archive's hash when there is one (not two: each is an isolate of ~9 MiB).
  const thread = policy === undefined ? undefined : new Sha256Thread();
  const fileDigests = thread === undefined ? undefined : new FileDigests({ threadedFromBytes: IMPORT_THREADED_DIGEST_BYTES, thread });
  // A required signature with no digest to check the archive against (no `sha256`, no .sha256
  // beside it) leaves the archive unhashed: the signature check covers every byte of every file
  // that enters the store, and a second SHA-256 of the same bytes cost a 1 GiB import 20-36%
  // more time, where verifying is meant to cost under 10%. Its `sha256` is then ''.
  const digest = hashedArchive(await open(), input.size, emit, { ...(thread ? { thread } : {}), hash: policy === undefined || expected !== undefined });
  try {
    const sniffed = await sniffArchive(digest, context.plugins, input);
    emit({ type: 'phase', phase: 'transfer', target: input.display });
    const installed = await runImportPipeline(context, {
      kind,
      emit,
      notices: IMPORT_NOTICES,
      stage: (itemDirectory, staging) =>
        extractArchive({ sniffed, digest, input, itemDirectory, staging, limits: context.limits, signal, ...(fileDigests ? { fileDigests } : {}) }),
      verify: async (itemDirectory) => {
        const sha256 = digest.digest();
        if (expected && expected.sha256 !== sha256) {
          throw new BentoportError(
            'ERR_CORRUPT_ARCHIVE',
            `[import] ${input.display}: SHA-256 mismatch (expected ${expected.sha256}, got ${sha256}); nothing was imported`,
          );
        }
        return requireItemMetadata(kind, itemDirectory, input.display);
      },
      models: embeddedModels,
      ...(policy === undefined || fileDigests === undefined
        ? {}
        : {
            check: stagedSignatureCheck(context, kind, { text: signatureText as string, where: `${input.display}.sig`, fileDigests }, policy, (signer) => (signedBy = signer)),
          }),
    });
    const signatureFile = signatureText === undefined ? undefined : await storeItemSignature(context, installed.item, signatureText);
    return {
      item: installed.item,
      format: sniffed.format,
      sha256: digest.digest(),
      size: digest.bytes,
      ...(expected ? { verifiedAgainst: expected.from } : {}),
      ...(signedBy ? { signedBy } : {}),
      ...(signatureFile ? { signatureFile } : {}),
      modelsImported: installed.modelsInstalled,
      modelsSkipped: installed.modelsSkipped,
    };
  } catch (error) {
    digest.destroy();
    throw operationError(error, signal, 'import', 'read', input.display);
  } finally {
    thread?.destroy();
  }
}

/**
 * Files of an import from this size on are hashed for a signature check on the operation's hash
 * thread: the main thread decodes and writes, and a second hash there would add its whole cost.
 */
const IMPORT_THREADED_DIGEST_BYTES = 8 * 1024 * 1024;

/**
 * The `<archive>.sig` that came with the source, or undefined. With a signature required, its
 * absence fails the import here, before a byte of the archive is read.
 * @throws {BentoportError} ERR_SIGNATURE when a signature is required and there is none.
 */
async function importSignature(input: ArchiveInput, signal: AbortSignal | undefined, policy: VerifyOptions | undefined): Promise<string | undefined> {
  const text = input.transport && input.location ? await readSignatureSidecar(input.transport, input.location, signal) : undefined;
  if (policy !== undefined && text === undefined) {
    const why = input.location ? `there is no ${input.display}.sig` : 'a signature cannot travel with a stream: import from a path or URL with its .sig beside it';
    throw missingSignatureError(`[import] ${input.display}`, policy, why, 'imported');
  }
  return text;
}

/** `<folder>.sig` beside an exported folder, or undefined. */
async function folderSignature(directory: string): Promise<string | undefined> {
  return readFile(`${directory}.sig`, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
}

/**
 * Import from a local directory (format `folder`), read in place: its files are copied once
 * into the staging directory, which then enters the store by rename like any import. A
 * `<folder>.sig` beside it is checked as an archive's `.sig` is.
 */
async function importFolder(context: EngineContext, kind: ItemKind, location: Location, emit: Emit, options: ImportOptions): Promise<ImportResult> {
  const signal = options.signal;
  const directory = await folderSource(location);
  const policy = requiredSignature(options, location.display, `[import] ${location.display}`, 'imported');
  const signatureText = await folderSignature(directory);
  if (policy !== undefined && signatureText === undefined) throw missingSignatureError(`[import] ${location.display}`, policy, `there is no ${directory}.sig`, 'imported');
  const fileDigests = policy === undefined ? undefined : new FileDigests({ threadedFromBytes: IMPORT_THREADED_DIGEST_BYTES });
  let signedBy: VerifiedSignature | undefined;
  let bytes = 0;
  try {
    emit({ type: 'phase', phase: 'transfer', target: location.display });
    const installed = await runImportPipeline(context, {
      kind,
      emit,
      notices: IMPORT_NOTICES,
      stage: async (itemDirectory) => {
        const entries = itemEntries({ trees: [{ directory, prefix: '' }], mtime: Math.floor(Date.now() / 1000), keepSymlinks: true });
        bytes = (await extractEntries(entries, itemDirectory, { limits: context.limits, signal, ...(fileDigests ? { fileDigests } : {}) })).bytes;
      },
      verify: (itemDirectory) => requireItemMetadata(kind, itemDirectory, location.display),
      models: embeddedModels,
      ...(policy === undefined || fileDigests === undefined
        ? {}
        : { check: stagedSignatureCheck(context, kind, { text: signatureText as string, where: `${directory}.sig`, fileDigests }, policy, (signer) => (signedBy = signer)) }),
    });
    const signatureFile = signatureText === undefined ? undefined : await storeItemSignature(context, installed.item, signatureText);
    return {
      item: installed.item,
      format: 'folder',
      sha256: '',
      size: bytes,
      ...(signedBy ? { signedBy } : {}),
      ...(signatureFile ? { signatureFile } : {}),
      modelsImported: installed.modelsInstalled,
      modelsSkipped: installed.modelsSkipped,
    };
  } catch (error) {
    throw operationError(error, signal, 'import', 'read', location.display);
  } finally {
    fileDigests?.destroy();
  }
}
