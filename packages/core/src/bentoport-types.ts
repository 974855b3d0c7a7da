import type { Readable, Writable } from 'node:stream';
import type { CompressionPolicy, Format, ProgressListener, Registry, Signer, Transport, VerifiedSignature } from '@bentoport/spec';
import type { ItemStore, StoreItem } from './item-store.js';
import type { DeletePlan, ExportPlan, ImportPlan, PullPlanResult, PushPlanResult } from './dry-run.js';
import type { PullOptions, PullResult, PushOptions, PushResult } from './push-pull.js';
import type { ExtractionLimits } from './safe-extract.js';
import type { TargetOptions } from './target.js';
import type { SignOptions, SignResult, VerifyOptions, VerifyResult } from './item-signatures.js';
import type { SignaturePolicy } from './signature-policy.js';
import type { VerifyArchiveOptions, VerifyArchiveResult } from './archive-verification.js';
import type { SyncEndpoint } from './sync-endpoint.js';
import type { SyncCallOptions, SyncItem } from './sync-endpoint.js';
import type { SyncOptions, SyncResult, SyncTarget } from './sync.js';
import type { RemoteItem } from './remote-store-listing.js';

/** Options of {@link createBentoport}. */
export interface BentoportOptions {
  /** BentoML home. @default `$BENTOML_HOME`, else `~/bentoml` */
  home?: string;
  /** Archive codecs, e.g. `[tarFormat(), zipFormat()]`. @default [] */
  formats?: Format[];
  /** Byte movers, e.g. `[fsTransport()]`. @default [] */
  transports?: Transport[];
  /**
   * Push/pull back-ends, e.g. `[ociRegistry({ url: 'oci://ghcr.io/team' })]`. `push`/`pull` use the
   * one whose `url` `BENTOPORT_REGISTRY` (or `registry:` in `~/.config/bentoport/config.yaml`) names,
   * else the only one, unless a call passes `registry`. @default []
   */
  registries?: Registry[];
  /** Receives progress, warnings and notices of every operation. */
  onProgress?: ProgressListener;
  /** Safety limits for imports. @default see {@link DEFAULT_EXTRACTION_LIMITS} */
  limits?: Partial<ExtractionLimits>;
  /** Directory relative paths resolve against. @default process.cwd() */
  cwd?: string;
}

/** Options shared by export calls. */
export interface ExportOptions extends TargetOptions {
  /** How hard compressed formats work. @default 'auto' */
  compression?: CompressionPolicy;
  /** Also write `<archive>.sha256` (sha256sum format) beside the archive. @default false */
  checksumFile?: boolean;
  /**
   * Continue an interrupted upload of the same archive to the same destination (S3 multipart),
   * and keep this one's parts if it fails. Needs a transport with `resumableWrites`. @default false
   */
  resume?: boolean;
  /**
   * Sign the item before it is written (the signature is stored beside it in the store too), and
   * write `<archive>.sig` beside the archive. The archive itself is then not hashed (the signature
   * covers every file; the result's `sha256` is '') unless `checksumFile` asks for its digest.
   * Without it, an item the store holds a signature for still gets its `<archive>.sig`: signatures
   * travel with the item. @default undefined (no new signature)
   */
  sign?: Signer;
  signal?: AbortSignal;
  /** Per-call progress listener, in addition to the instance's. */
  onProgress?: ProgressListener;
}

/** Options shared by import calls. */
export interface ImportOptions extends TargetOptions {
  /**
   * Expected SHA-256 of the archive (hex). Nothing enters the store on a mismatch. Without it, a
   * `<archive>.sha256` file beside the source is used when one exists.
   */
  sha256?: string;
  /**
   * Refuse the item unless `<archive>.sig` beside the source is a valid signature of it by a
   * signer the verifier allows (for `principal`, when given). It is checked on the staged copy,
   * before anything enters the store. The archive is then hashed only to check it against an
   * expected digest (`sha256`, or a `.sha256` beside it); without one the result's `sha256` is ''.
   * Without this option, a `<archive>.sig` is not checked, only kept beside the imported item.
   * @default undefined (no signature required)
   */
  requireSignature?: VerifyOptions;
  /**
   * The signers each source requires (see `loadSignaturePolicy`): the rule of the most specific
   * entry matching the source applies, as `requireSignature` would; `reject` refuses the source
   * outright. `requireSignature` overrides it. @default undefined (no policy)
   */
  signaturePolicy?: SignaturePolicy;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/** What an export produced. */
export interface ExportResult {
  /** `name:version` of the exported item. */
  tag: string;
  /** Where the archive went: an absolute local path, or a URL (password redacted). `-` for a stream. */
  destination: string;
  /** The format token written. */
  format: string;
  /**
   * SHA-256 (hex) of the archive bytes; '' for format `folder`, and for a signed export
   * (`sign`) without `checksumFile`, whose signature covers every file instead.
   */
  sha256: string;
  /** Archive size in bytes. */
  size: number;
  /** Where the checksum file went, when `checksumFile` was set. */
  checksumFile?: string;
  /** Where `<archive>.sig` went, when the item was signed. */
  signatureFile?: string;
}

/** What an import produced. */
export interface ImportResult {
  /** The item now in the store. */
  item: StoreItem;
  /** The format token read (from the bytes' magic number where they said). */
  format: string;
  /**
   * SHA-256 (hex) of the archive bytes; '' when a signature was required and no digest was
   * expected (neither `sha256` nor a `.sha256` beside the source): the signature check covered
   * every file instead.
   */
  sha256: string;
  size: number;
  /** Whether the digest was checked against an expected value, and where that came from. */
  verifiedAgainst?: 'option' | 'checksum-file';
  /** Who signed the item, when `requireSignature` checked `<archive>.sig`. */
  signedBy?: VerifiedSignature;
  /** Where the signature that came with the archive is kept, beside the imported item. */
  signatureFile?: string;
  /** Embedded models moved into the model store. */
  modelsImported: string[];
  /** Embedded models skipped because the model store already had them. */
  modelsSkipped: string[];
}

/** A place to export to or import from: a path or URL, or a stream (`-` in the CLI). */
export type ExportTarget = string | Writable;
export type ImportSource = string | Readable;

/** The bentoport API, bound to one BentoML home and a set of plugins. */
export interface Bentoport {
  readonly home: string;
  readonly bentos: ItemStore;
  readonly models: ItemStore;
  /**
   * Export a bento with its models embedded, as BentoML's `export_bento(tag, path, output_format)`.
   * The store is never modified.
   * @throws {BentoportError} ERR_NOT_FOUND (bento or a referenced model), ERR_INVALID_TARGET,
   * ERR_UNSUPPORTED_FORMAT, ERR_UNSUPPORTED_PROTOCOL, transport errors.
   */
  exportBento(tag: string, target: ExportTarget, outputFormat?: string, options?: ExportOptions): Promise<ExportResult>;
  /**
   * Import a bento archive, as BentoML's `import_bento(path, input_format)`: embedded models go to
   * the model store (existing ones skipped), the bento enters without `models/`, atomically. Every
   * embedded model is verified before any is installed, and a failed import takes out again the
   * models it installed, so the store ends as it began.
   * @throws {BentoportError} ERR_ALREADY_EXISTS, ERR_CORRUPT_ARCHIVE, ERR_UNSAFE_ARCHIVE,
   * ERR_INVALID_METADATA, ERR_UNSUPPORTED_FORMAT, ERR_NOT_FOUND.
   */
  importBento(source: ImportSource, inputFormat?: string, options?: ImportOptions): Promise<ImportResult>;
  /** Export a model (`.bentomodel` natively). Same contract as {@link exportBento}. */
  exportModel(tag: string, target: ExportTarget, outputFormat?: string, options?: ExportOptions): Promise<ExportResult>;
  /** Import a model archive. Same contract as {@link importBento}. */
  importModel(source: ImportSource, inputFormat?: string, options?: ImportOptions): Promise<ImportResult>;
  /** List bentos: all, `name`, `name:version` or `name:latest`. */
  listBentos(tagLike?: string): Promise<StoreItem[]>;
  getBento(tagLike: string): Promise<StoreItem>;
  /** Delete a bento as BentoML's `delete`: `name` removes all versions; `name:prefix` resolves first. */
  deleteBento(tagLike: string): Promise<StoreItem[]>;
  listModels(tagLike?: string): Promise<StoreItem[]>;
  getModel(tagLike: string): Promise<StoreItem>;
  /**
   * Delete a model. Refuses one that a bento in the store uses, with BentoML's message.
   * @throws {BentoportError} ERR_IN_USE, ERR_NOT_FOUND.
   */
  deleteModel(tagLike: string): Promise<StoreItem[]>;
  /**
   * Push a bento (`latest` and version prefixes resolve locally) and, first, its models, as
   * BentoML's `push`: a version the registry holds is skipped with a notice unless `force`.
   * @throws {BentoportError} ERR_NOT_FOUND (local bento), ERR_INVALID_OPTION (no registry), ERR_AUTH, ERR_IO, ERR_ABORTED.
   */
  push(tag: string, options?: PushOptions): Promise<PushResult>;
  /**
   * Pull a bento as BentoML's `pull` does: the local store is checked first; the missing models follow unless
   * `withModels: false`, staged and verified with the bento and installed with it or not at all;
   * `force` replaces only that version, after the new copy is verified.
   * @throws {BentoportError} ERR_INVALID_TAG (no version), ERR_NOT_FOUND (remote), ERR_CORRUPT_ARCHIVE
   * (nothing stored), ERR_UNSAFE_ARCHIVE, ERR_INVALID_METADATA, ERR_AUTH, ERR_IO, ERR_ABORTED.
   */
  pull(tag: string, options?: PullOptions): Promise<PullResult>;
  /** Push a model. Same contract as {@link push}. */
  pushModel(tag: string, options?: PushOptions): Promise<PushResult>;
  /** Pull a model. Same contract as {@link pull}. */
  pullModel(tag: string, options?: PullOptions): Promise<PullResult>;
  /**
   * Sign a bento: its content manifest (every file of the bento and of each model it uses, with
   * path, mode, size and SHA-256) is signed and the signature stored beside the bento, as
   * `bentos/<name>/<version>.bentoport.sig`. The bento's own directory is not touched.
   * @example
   * ```ts
   * import { sshSigner } from '@bentoport/signer-ssh';
   * await bentoport.signBento('svc:latest', { signer: sshSigner({ keyFile: 'ci_ed25519' }) });
   * ```
   * @throws {BentoportError} ERR_NOT_FOUND (the bento or a model it uses), the signer's ERR_SIGNATURE.
   */
  signBento(tag: string, options: SignOptions): Promise<SignResult>;
  /**
   * Verify a bento's stored signature: who signed (by the verifier's policy), then that the bento
   * and its models are still what was signed.
   * @throws {BentoportError} ERR_SIGNATURE: no signature, an unknown or disallowed key, a bad
   * signature, or content that differs (naming the first differing file).
   */
  verifyBento(tag: string, options: VerifyOptions): Promise<VerifyResult>;
  /** Sign a model. Same contract as {@link signBento}. */
  signModel(tag: string, options: SignOptions): Promise<SignResult>;
  /** Verify a model's signature. Same contract as {@link verifyBento}. */
  verifyModel(tag: string, options: VerifyOptions): Promise<VerifyResult>;
  /**
   * Verify a bento archive (a path or URL on any transport, or an exported folder) against the
   * `<archive>.sig` beside it, without installing it: the archive streams once through its
   * decoder, each file through a hash; nothing enters the store.
   * @example
   * ```ts
   * await bentoport.verifyBentoArchive('s3://drops/svc.bento', undefined, { requireSignature: { verifier, principal: 'ci@example.com' } });
   * ```
   * @throws {BentoportError} ERR_SIGNATURE (no signature, unknown key, bad signature, content that
   * differs naming the first differing file, a source the policy rejects), ERR_INVALID_OPTION
   * (nothing to verify against), the transport's and format's errors.
   */
  verifyBentoArchive(source: string, inputFormat?: string, options?: VerifyArchiveOptions): Promise<VerifyArchiveResult>;
  /** Verify a model archive. Same contract as {@link verifyBentoArchive}. */
  verifyModelArchive(source: string, inputFormat?: string, options?: VerifyArchiveOptions): Promise<VerifyArchiveResult>;
  /**
   * Sync whole stores: SRC and DST are each `'local'` (the local store), a remote store's path
   * or URL (`s3://bucket/prefix/`, `sftp://host/dir/`, `ftp://…`, `https://` WebDAV,
   * `file:///mnt/usb/bentos/`), or a {@link SyncEndpoint} (a registry's). Only what DST lacks
   * is sent, each model once; archives are verified as they arrive; a rerun after an
   * interruption skips what arrived verified; a remote store's index is written last.
   * @example
   * ```ts
   * const result = await bentoport.sync('local', 's3://releases/2026-12/', { filter: 'iris*', latest: true });
   * console.log(`${result.sent.length} items, ${result.bytesSent} bytes`);
   * ```
   * @throws {BentoportError} ERR_INVALID_OPTION, ERR_UNSUPPORTED_PROTOCOL, ERR_CORRUPT_ARCHIVE
   * (a copy that does not hash as SRC's index says), the transports' errors, ERR_ABORTED.
   */
  sync(source: SyncTarget, destination: SyncTarget, options?: SyncOptions): Promise<SyncResult>;
  /** Items of a remote store (from its index, or archive heads without one): all, `name`, `name:version`, `name:latest`. */
  listRemoteBentos(url: string, tagLike?: string, options?: SyncCallOptions): Promise<SyncItem[]>;
  listRemoteModels(url: string, tagLike?: string, options?: SyncCallOptions): Promise<SyncItem[]>;
  /** One bento of a remote store, with its `bento.yaml` document read from the archive's head. */
  getRemoteBento(url: string, tagLike: string, options?: SyncCallOptions): Promise<RemoteItem>;
  getRemoteModel(url: string, tagLike: string, options?: SyncCallOptions): Promise<RemoteItem>;
  /**
   * Import a bento by tag from a remote store, with exactly the models it needs that the local
   * store lacks.
   * @example
   * ```ts
   * await bentoport.importFromRemoteStore('s3://releases/2026-12/', 'iris:latest');
   * ```
   */
  importFromRemoteStore(url: string, tagLike: string, options?: Omit<SyncOptions, 'filter' | 'latest' | 'delete' | 'format'>): Promise<SyncResult>;
  /** The content manifest a signature of the bento covers, as signed (for `ssh-keygen -Y verify`). */
  bentoManifest(tag: string): Promise<Buffer>;
  /** The content manifest of a model. */
  modelManifest(tag: string): Promise<Buffer>;
  /**
   * A registry as one side of `sync`: it lists the registry's items (`capabilities.listItems`),
   * opens one as `pull` would (verified entries), and receives one from the local store through
   * `push` (its models first, each sent once). `registry` as in {@link PushOptions.registry}.
   * @throws {BentoportError} ERR_INVALID_OPTION (no such registry), ERR_INVALID_TARGET (it cannot list).
   */
  registryEndpoint(registry?: Registry | string): Promise<SyncEndpoint>;
  /**
   * The same operations as dry runs: what each would write or send, where and how much, found by
   * reading only. Nothing changes anywhere: no store change, no temporary file, no remote write,
   * no upload session (a registry is asked `has`, a transport `stat`, an import's first bytes are
   * read). Each throws what the operation would throw before its first write.
   * @example
   * ```ts
   * const plan = await bentoport.dryRun.push('svc:latest');
   * for (const item of plan.items) console.log(item.tag, item.present ? 'already there' : `${item.bytes} bytes`);
   * ```
   */
  readonly dryRun: DryRun;
}

/** {@link Bentoport.dryRun}: each operation's plan, by the same arguments. */
export interface DryRun {
  exportBento(tag: string, target: ExportTarget, outputFormat?: string, options?: ExportOptions): Promise<ExportPlan>;
  exportModel(tag: string, target: ExportTarget, outputFormat?: string, options?: ExportOptions): Promise<ExportPlan>;
  importBento(source: ImportSource, inputFormat?: string, options?: ImportOptions): Promise<ImportPlan>;
  importModel(source: ImportSource, inputFormat?: string, options?: ImportOptions): Promise<ImportPlan>;
  push(tag: string, options?: PushOptions): Promise<PushPlanResult>;
  pushModel(tag: string, options?: PushOptions): Promise<PushPlanResult>;
  pull(tag: string, options?: PullOptions): Promise<PullPlanResult>;
  pullModel(tag: string, options?: PullOptions): Promise<PullPlanResult>;
  deleteBento(tagLike: string): Promise<DeletePlan>;
  deleteModel(tagLike: string): Promise<DeletePlan>;
}
