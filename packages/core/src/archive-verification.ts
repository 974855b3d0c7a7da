import { readFile, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { BentoportError, type ItemMetadata, type Location, type ProgressListener, type VerifiedSignature } from '@bentoport/spec';
import { decoderSource, sniffArchive, type ArchiveInput } from './archive-source.js';
import { contentManifest, type ManifestSection } from './content-manifest.js';
import { operationError, progressEmitter, type EngineContext } from './engine-context.js';
import { entriesManifest } from './entry-manifest.js';
import { folderSource } from './folder.js';
import { withStaging } from './import-pipeline.js';
import { missingSignatureError, verifyContent, type VerifyOptions } from './item-signatures.js';
import { requireItemMetadata } from './item-store.js';
import { readSignatureSidecar } from './sidecar-files.js';
import { requiredSignature, type SignatureRequirementOptions } from './signature-policy.js';
import { formatTag } from './tag.js';
import { resolveImportSource, type ItemKind, type TargetOptions } from './target.js';

/**
 * `verify ARCHIVE|URL`: an archive (or an exported folder) against the `.sig` beside it, on any
 * transport, without installing it. The archive streams once through its decoder and each body
 * through a hash; nothing is written to the store (a format that needs random access to a source
 * without ranged reads spools into a staging directory, removed after).
 */

/** Options of `verifyBentoArchive`/`verifyModelArchive`. */
export interface VerifyArchiveOptions extends TargetOptions, SignatureRequirementOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/** A verification of an archive that passed. */
export interface VerifyArchiveResult extends VerifiedSignature {
  /** `name:version` of the item in the archive. */
  tag: string;
  /** The archive or folder verified (display form). */
  source: string;
  format: string;
  /** Where its signature was read. */
  signatureFile: string;
}

/** The check the caller or the policy asks of `display`; verifying needs one. */
function verificationPolicy(options: VerifyArchiveOptions, display: string): VerifyOptions {
  const policy = requiredSignature(options, display, `[verify] ${display}`, 'verified');
  if (policy === undefined) {
    throw new BentoportError('ERR_INVALID_OPTION', `[verify] ${display}: nothing to verify against: give allowed signers, or a signature policy that requires a signature of this source (its rule accepts anything)`);
  }
  return policy;
}

/** The sections of an exported folder: the item, then each model it carries under `models/`. */
function folderSections(kind: ItemKind, directory: string, metadata: ItemMetadata): ManifestSection[] {
  const sections: ManifestSection[] = [{ kind, tag: formatTag(metadata.tag), directory, ...(kind === 'bento' ? { exclude: ['models'] } : {}) }];
  for (const reference of kind === 'bento' ? metadata.models : []) {
    if (reference.registry !== 'bentoml') continue;
    sections.push({ kind: 'model', tag: formatTag(reference.tag), directory: `${directory}/models/${reference.tag.name}/${reference.tag.version}` });
  }
  return sections;
}

async function existingSections(sections: ManifestSection[]): Promise<ManifestSection[]> {
  const found: ManifestSection[] = [];
  for (const section of sections) if (await stat(section.directory).then((info) => info.isDirectory(), () => false)) found.push(section);
  return found;
}

async function verifyFolder(kind: ItemKind, location: Location, options: VerifyArchiveOptions): Promise<VerifyArchiveResult> {
  const policy = verificationPolicy(options, location.display);
  const directory = await folderSource(location);
  const signatureFile = `${directory}.sig`;
  const text = await readFile(signatureFile, 'utf8').catch(() => undefined);
  if (text === undefined) throw missingSignatureError(`[verify] ${location.display}`, policy, `there is no ${signatureFile}`, 'verified');
  const metadata = await requireItemMetadata(kind, directory, location.display);
  const manifest = await contentManifest(await existingSections(folderSections(kind, directory, metadata)));
  const signer = await verifyContent(text, signatureFile, manifest, policy);
  return { tag: formatTag(metadata.tag), source: location.display, format: 'folder', signatureFile, ...signer };
}

/** A sink that only lets bytes pass (what a decoder left unread). */
const discard = (): Writable => new Writable({ write: (_chunk, _encoding, callback) => callback() });

/**
 * Verify an archive or exported folder against its `.sig` without installing it.
 * @throws {BentoportError} ERR_SIGNATURE (no signature, unknown key, bad signature, content that
 * differs, a source the policy rejects), the transport's and decoder's errors.
 */
export async function verifyArchive(context: EngineContext, kind: ItemKind, source: string, inputFormat: string | undefined, options: VerifyArchiveOptions = {}): Promise<VerifyArchiveResult> {
  const emit = progressEmitter(context, 'import', options.onProgress);
  const signal = options.signal;
  const resolved = resolveImportSource(source, inputFormat, options, kind, context.cwd);
  const { location } = resolved;
  if (resolved.format === 'folder') return verifyFolder(kind, location, options);
  const policy = verificationPolicy(options, location.display);
  const transport = context.plugins.transportFor(location.protocol, location.display);
  try {
    const info = await transport.stat(location, { signal, onProgress: emit });
    const text = await readSignatureSidecar(transport, location, signal);
    if (text === undefined) throw missingSignatureError(`[verify] ${location.display}`, policy, `there is no ${location.display}.sig`, 'verified');
    const input: ArchiveInput = { display: location.display, transport, location, size: info.size, format: resolved.format, explicitFormat: resolved.explicitFormat };
    const sniffed = await sniffArchive(await transport.read(location, { signal, onProgress: emit }), context.plugins, input);
    const { manifest, metadata } = await withStaging(context, async (staging) => {
      const { archive, wholeInputRead } = await decoderSource(sniffed, input, staging, signal);
      const found = await entriesManifest(sniffed.codec.decode(archive, { format: sniffed.format, signal }), kind, location.display);
      if (!sniffed.stream.readableEnded && !sniffed.stream.destroyed && !sniffed.codec.capabilities.randomAccessDecode) await pipeline(sniffed.stream, discard());
      await wholeInputRead;
      return found;
    });
    const signer = await verifyContent(text, `${location.display}.sig`, manifest, policy);
    return { tag: formatTag(metadata.tag), source: location.display, format: sniffed.format, signatureFile: `${location.display}.sig`, ...signer };
  } catch (error) {
    throw operationError(error, signal, 'verify', 'read', location.display);
  }
}
