import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BentoportError, type DetachedSignature, type ItemMetadata, type Signer, type SignatureVerifier, type VerifiedSignature } from '@bentoport/spec';
import { contentManifest, MANIFEST_HEADER, manifestDifference, type ManifestSection } from './content-manifest.js';
import { usedModel } from './embedded-models.js';
import type { FileDigests, KnownDigests } from './file-digests.js';
import { storeOf, type EngineContext } from './engine-context.js';
import { STORE_SIGNATURE_SUFFIX, type StoreItem } from './item-store.js';
import { formatTag } from './tag.js';
import type { ItemKind } from './target.js';

/**
 * Signatures of items. A signature covers the item's content manifest (see content-manifest.ts),
 * never an archive's bytes, so it holds for every format and store the item passes through.
 *
 * A signature file is the scheme's own signature text followed by the manifest it signed:
 *
 * ```text
 * -----BEGIN SSH SIGNATURE-----
 * …
 * -----END SSH SIGNATURE-----
 * bentoport-manifest 1
 * bento svc:v1
 * file 0644 …
 * ```
 *
 * Carrying the signed manifest lets a verifier say which file differs, not only that something
 * does. `ssh-keygen -Y verify -s FILE` reads such a file (it stops at the END line); the message
 * it wants on stdin is the manifest part (`bentoport manifest TAG` prints it).
 *
 * In the store, a signature lives beside the item's directory, as `<name>/<version>.bentoport.sig`:
 * BentoML lists only directories there, so it never sees the file and the item's own directory
 * stays byte-identical; deleting the item removes it.
 */

/** The namespace signatures are made under: a signature made for git or files is refused here. */
export const SIGNATURE_NAMESPACE = 'bentoport';

/** The armor that opens each scheme's signature text. */
const SCHEME_ARMOR: ReadonlyArray<readonly [string, string]> = [['-----BEGIN SSH SIGNATURE-----', 'sshsig']];

/** Where the store keeps the signature of `item`. */
export function storeSignaturePath(item: StoreItem): string {
  return path.join(path.dirname(item.path), `${item.tag.version}${STORE_SIGNATURE_SUFFIX}`);
}

/** The signature file: the signature text, then the manifest it signed. */
export function signatureFileText(signature: DetachedSignature, manifest: Buffer): string {
  const text = signature.text.endsWith('\n') ? signature.text : `${signature.text}\n`;
  return `${text}${manifest.toString('utf8')}`;
}

/**
 * Splits a signature file into the signature and the manifest it carries.
 * @throws {BentoportError} ERR_SIGNATURE when it is not a signature file of a known scheme.
 */
export function parseSignatureFile(text: string, where: string): { signature: DetachedSignature; manifest: Buffer } {
  const scheme = SCHEME_ARMOR.find(([armor]) => text.trimStart().startsWith(armor))?.[1];
  const manifestStart = text.indexOf(`\n${MANIFEST_HEADER}\n`);
  if (scheme === undefined || manifestStart < 0) {
    throw new BentoportError('ERR_SIGNATURE', `${where} is not a bentoport signature file (an SSH signature followed by a "${MANIFEST_HEADER}" manifest)`);
  }
  return { signature: { scheme, text: text.slice(0, manifestStart + 1) }, manifest: Buffer.from(text.slice(manifestStart + 1), 'utf8') };
}

/**
 * The manifest sections of a store item: the item, then for a bento each model it uses (from the
 * model store, or a legacy bento's own `models/`). `requireModels` makes a missing model an
 * error (signing); otherwise it is left out, and a verification then names it.
 */
export async function storeItemSections(context: EngineContext, item: StoreItem, requireModels: boolean): Promise<ManifestSection[]> {
  const sections: ManifestSection[] = [{ kind: item.kind, tag: formatTag(item.tag), directory: item.path, ...(item.kind === 'bento' ? { exclude: ['models'] } : {}) }];
  if (item.kind !== 'bento') return sections;
  for (const reference of item.metadata.models) {
    if (reference.registry !== 'bentoml') continue;
    try {
      const model = await usedModel(context, item, reference);
      sections.push({ kind: 'model', tag: formatTag(model.tag), directory: model.path });
    } catch (error) {
      if (requireModels || !(error instanceof BentoportError && error.code === 'ERR_NOT_FOUND')) throw error;
    }
  }
  return sections;
}

/** The content manifest of a store item (what `sign` signs). */
export async function itemManifest(context: EngineContext, kind: ItemKind, tagLike: string): Promise<Buffer> {
  const item = await storeOf(context, kind).get(tagLike);
  return contentManifest(await storeItemSections(context, item, true));
}

/** Writes a file by a temporary name and one rename, so a reader sees the old file or the new one. */
export async function writeFileAtomically(target: string, text: string): Promise<void> {
  const temporary = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Options of `signBento`/`signModel`. */
export interface SignOptions {
  /** Makes the signature: `sshSigner({ keyFile })` from `@bentoport/signer-ssh`, or any `Signer`. */
  signer: Signer;
  signal?: AbortSignal;
}

/** What signing did. */
export interface SignResult {
  /** `name:version` of the signed item. */
  tag: string;
  /** The signature file written beside the item. */
  signaturePath: string;
  /** SHA-256 of the signed manifest. */
  manifestSha256: string;
  /** The signature file's text (signature, then manifest), as stored and as `<archive>.sig`. */
  signatureText: string;
}

/**
 * Signs a store item's content manifest and stores the signature beside the item (replacing an
 * earlier one). The item's own directory is not touched. Files `known` holds a digest of (an
 * export that just read them) are not read again.
 * @throws {BentoportError} ERR_NOT_FOUND (the item, or a model it uses), the signer's errors.
 */
export async function signItem(context: EngineContext, kind: ItemKind, tagLike: string, options: SignOptions, known?: KnownDigests): Promise<SignResult> {
  const store = storeOf(context, kind);
  const item = await store.get(tagLike);
  const manifest = await contentManifest(await storeItemSections(context, item, true), known);
  const signature = await options.signer.sign(manifest, SIGNATURE_NAMESPACE, options.signal);
  const signaturePath = storeSignaturePath(item);
  const signatureText = signatureFileText(signature, manifest);
  await store.withNameLock(item.tag.name, () => writeFileAtomically(signaturePath, signatureText));
  return { tag: formatTag(item.tag), signaturePath, manifestSha256: createHash('sha256').update(manifest).digest('hex'), signatureText };
}

/** Options of `verifyBento`/`verifyModel`. */
export interface VerifyOptions {
  /** Checks the signature: `sshVerifier({ allowedSignersFile })` from `@bentoport/signer-ssh`, or any `SignatureVerifier`. */
  verifier: SignatureVerifier;
  /** The principal that must have signed (`ci@example.com`). @default any principal the verifier allows */
  principal?: string;
  /**
   * The policy rule that asked for this check, named at the end of every refusal
   * (`signature policy /etc/bentoport/policy.yaml, sources["s3://models/prod"]`). @default none named
   */
  requiredBy?: string;
}

/** A refusal's message with the rule that required the signature, when one did. */
function withRule(message: string, policy: VerifyOptions): string {
  return policy.requiredBy === undefined ? message : `${message} (required by ${policy.requiredBy})`;
}

/** The verifier's refusal (unknown key, bad signature), naming the rule that required the signature. */
function refusalUnderRule(error: unknown, policy: VerifyOptions): unknown {
  if (policy.requiredBy === undefined || !(error instanceof BentoportError) || error.code !== 'ERR_SIGNATURE') return error;
  return new BentoportError('ERR_SIGNATURE', withRule(error.message, policy), { cause: error, ...(error.details ? { details: error.details } : {}) });
}

/** A verification that passed. */
export interface VerifyResult extends VerifiedSignature {
  /** `name:version` of the verified item. */
  tag: string;
}

/**
 * Checks a signature file against content: first the signature over the manifest it carries
 * (who signed), then that manifest against the content's own (what they signed).
 * @throws {BentoportError} ERR_SIGNATURE naming what was expected and what was found.
 */
export async function verifyContent(
  signatureText: string,
  where: string,
  actualManifest: Buffer,
  options: VerifyOptions,
): Promise<VerifiedSignature> {
  const { signature, manifest } = parseSignatureFile(signatureText, where);
  let signer: VerifiedSignature;
  try {
    signer = await options.verifier.verify(manifest, signature, SIGNATURE_NAMESPACE, options.principal);
  } catch (error) {
    throw refusalUnderRule(error, options);
  }
  const difference = manifestDifference(manifest, actualManifest);
  if (difference !== undefined) {
    throw new BentoportError('ERR_SIGNATURE', withRule(`content differs from what ${signer.principal} (${signer.keyFingerprint}) signed: ${difference}`, options), {
      details: { principal: signer.principal, keyFingerprint: signer.keyFingerprint, reason: 'content-differs' },
    });
  }
  return signer;
}

/**
 * Verifies the stored signature of a store item.
 * @throws {BentoportError} ERR_SIGNATURE: no signature, an unknown or disallowed key, a bad
 * signature, or content that differs from what was signed (naming the first differing file).
 */
export async function verifyItem(context: EngineContext, kind: ItemKind, tagLike: string, options: VerifyOptions): Promise<VerifyResult> {
  const item = await storeOf(context, kind).get(tagLike);
  const signaturePath = storeSignaturePath(item);
  const text = await readStoredSignature(item);
  if (text === undefined) {
    const command = kind === 'model' ? 'bentoport models sign' : 'bentoport sign';
    throw new BentoportError('ERR_SIGNATURE', `${formatTag(item.tag)} has no signature (expected one by ${expectedSigner(options)}); sign it with \`${command}\``, {
      details: { reason: 'no-signature' },
    });
  }
  const actual = await contentManifest(await storeItemSections(context, item, false));
  const signer = await verifyContent(text, signaturePath, actual, options);
  return { tag: formatTag(item.tag), ...signer };
}

/**
 * The manifest sections of a staged import: the staged item, then each model it uses — the
 * store's copy when the store has that version (the copy the item will use), else the staged one.
 * A model found in neither is left out, so a verification names it.
 */
export async function stagedSections(
  context: EngineContext,
  kind: ItemKind,
  directory: string,
  metadata: ItemMetadata,
  stagedModels: readonly { directory: string; metadata: ItemMetadata }[],
): Promise<ManifestSection[]> {
  const sections: ManifestSection[] = [{ kind, tag: formatTag(metadata.tag), directory, ...(kind === 'bento' ? { exclude: ['models'] } : {}) }];
  if (kind !== 'bento') return sections;
  for (const reference of metadata.models) {
    if (reference.registry !== 'bentoml') continue;
    const tag = formatTag(reference.tag);
    const stored = (await context.models.list(tag))[0];
    const staged = stagedModels.find((model) => formatTag(model.metadata.tag) === tag);
    const modelDirectory = stored?.path ?? staged?.directory;
    if (modelDirectory !== undefined) sections.push({ kind: 'model', tag, directory: modelDirectory });
  }
  return sections;
}

/** Store a signature that came with an imported item beside it (replacing any). */
export async function storeItemSignature(context: EngineContext, item: StoreItem, text: string): Promise<string> {
  const signaturePath = storeSignaturePath(item);
  await storeOf(context, item.kind).withNameLock(item.tag.name, () => writeFileAtomically(signaturePath, text));
  return signaturePath;
}

/** The stored signature file of `item`, or undefined when it has none. */
export async function readStoredSignature(item: StoreItem): Promise<string | undefined> {
  try {
    return await readFile(storeSignaturePath(item), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Who a policy expects to have signed, in words: `principal "ci@example.com"`. */
function expectedSigner(policy: VerifyOptions): string {
  return policy.principal === undefined ? 'a signer the policy allows' : `principal "${policy.principal}"`;
}

/**
 * The refusal of an import or pull that requires a signature and found none, before any byte of
 * the item moved: `<subject>: no signature (expected one by …): <why>; nothing was <done>`.
 */
export function missingSignatureError(subject: string, policy: VerifyOptions, why: string, done: 'imported' | 'pulled' | 'verified'): BentoportError {
  return new BentoportError('ERR_SIGNATURE', withRule(`${subject}: no signature (expected one by ${expectedSigner(policy)}): ${why}; nothing was ${done}`, policy), {
    details: { reason: 'no-signature' },
  });
}

/**
 * The import pipeline's `check` for a required signature: the staged item with its models (the
 * store's copy of a model the store has) against `signatureText`, whose signer goes to `onVerified`.
 * Staged files whose digests `fileDigests` took while writing them are not read again.
 */
export function stagedSignatureCheck(
  context: EngineContext,
  kind: ItemKind,
  signature: { text: string; where: string; fileDigests: FileDigests },
  policy: VerifyOptions,
  onVerified: (signer: VerifiedSignature) => void,
): (directory: string, metadata: ItemMetadata, models: { staged: readonly { directory: string; metadata: ItemMetadata }[] }) => Promise<void> {
  return async (directory, metadata, models) => {
    const sections = await stagedSections(context, kind, directory, metadata, models.staged);
    const manifest = await contentManifest(sections, await signature.fileDigests.known());
    onVerified(await verifyContent(signature.text, signature.where, manifest, policy));
  };
}
