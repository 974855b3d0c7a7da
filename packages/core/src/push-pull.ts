import { homedir } from 'node:os';
import path from 'node:path';
import { BentoportError, type ProgressListener, type Registry, type Signer, type VerifiedSignature } from '@bentoport/spec';
import { redact } from '@bentoport/plugin-kit';
import { readConfigFile } from './config-file.js';
import type { StoreItem } from './item-store.js';
import type { VerifyOptions } from './item-signatures.js';
import type { SignaturePolicy } from './signature-policy.js';

/** What push and pull share: their options and results, and the choice of registry. */

/** Options of `push` and `pushModel`. */
export interface PushOptions {
  /**
   * The registry: an instance, or a string selecting one of `createBentoport({ registries })` by
   * its `url` or `name`. @default the one `BENTOPORT_REGISTRY` or the config file names, else the only one configured
   */
  registry?: Registry | string;
  /** Push even when the registry holds this version (its models are pushed again too). @default false */
  force?: boolean;
  /** Push a bento's models (those in the local model store) before it. @default true */
  withModels?: boolean;
  /**
   * Sign the item before anything is sent (stored beside it locally too) and attach the
   * signature in the registry. Without it, a signature the store holds for the item is attached
   * anyway, where the registry can hold signatures (`capabilities.signatures`). @default undefined (no new signature)
   */
  sign?: Signer;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/** Options of `pull` and `pullModel`. */
export interface PullOptions {
  /** As {@link PushOptions.registry}. */
  registry?: Registry | string;
  /**
   * Download even when the local store holds the version, and replace THAT version only, once
   * the new copy is staged and verified (a failed pull keeps the old copy). @default false
   */
  force?: boolean;
  /**
   * Pull the models a bento needs that are missing from the local model store. BentoML pulls
   * them only with `--with-models`; bentoport does by default, because a bento without its
   * models cannot serve. @default true
   */
  withModels?: boolean;
  /**
   * Refuse the item unless the registry holds a signature of it by a signer the verifier allows,
   * checked on the staged copy with its models before anything enters the store. Without it, a
   * signature the registry holds is kept beside the pulled item unchecked. @default undefined (no signature required)
   */
  requireSignature?: VerifyOptions;
  /**
   * The signers each source requires (see `loadSignaturePolicy`), matched against
   * `<registry url>/<name>`; `requireSignature` overrides it. @default undefined (no policy)
   */
  signaturePolicy?: SignaturePolicy;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/** What a push did. */
export interface PushResult {
  /** `name:version` pushed (resolved from `latest` or a prefix locally). */
  tag: string;
  /** The registry's `url`. */
  registry: string;
  /** True when the registry already held the version and nothing was sent (no `force`). */
  skipped: boolean;
  location?: string;
  digest?: string;
  bytesUploaded?: number;
  bytesSkipped?: number;
  /** A bento's models: pushed, or skipped because the registry held them. */
  models: Array<{ tag: string; skipped: boolean; bytesUploaded?: number }>;
  /** True when the item's signature was attached in the registry. */
  signed?: boolean;
}

/** What a pull did. */
export interface PullResult {
  /** The item now in the local store. */
  item: StoreItem;
  registry: string;
  /** True when the local store already held it and nothing was downloaded. */
  skipped: boolean;
  /** True when `force` replaced a local copy of this version. */
  replaced: boolean;
  /** Models pulled because they were missing locally. */
  modelsPulled: string[];
  /** Models already in the local model store. */
  modelsSkipped: string[];
  /** Who signed the item, when `requireSignature` checked the registry's signature. */
  signedBy?: VerifiedSignature;
}

/** Where the default registry came from. */
export interface RegistrySetting {
  /** The registry URL as written (may hold credentials: never print it unredacted). */
  url: string;
  /** `BENTOPORT_REGISTRY`, or the config file's path. */
  source: string;
}

/** `$XDG_CONFIG_HOME/bentoport/config.yaml`, else `~/.config/bentoport/config.yaml`. */
export function bentoportConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(env.HOME ?? homedir(), '.config');
  return path.join(base, 'bentoport', 'config.yaml');
}

/**
 * The default registry: `BENTOPORT_REGISTRY`, else `registry:` in the config file
 * ({@link bentoportConfigPath}), else undefined.
 * @throws {BentoportError} ERR_INVALID_OPTION when the config file is not a yaml mapping or `registry` is not a string.
 */
export async function readDefaultRegistry(env: NodeJS.ProcessEnv = process.env): Promise<RegistrySetting | undefined> {
  const fromEnv = env.BENTOPORT_REGISTRY?.trim();
  if (fromEnv) return { url: fromEnv, source: 'BENTOPORT_REGISTRY' };
  const file = bentoportConfigPath(env);
  const registry = (await readConfigFile(file))?.registry;
  if (registry === undefined || registry === null) return undefined;
  if (typeof registry !== 'string') throw new BentoportError('ERR_INVALID_OPTION', `${file}: 'registry' must be a string (a registry URL)`);
  return { url: registry.trim(), source: file };
}

/** A registry URL without credentials or trailing slashes, for comparing. */
function comparableUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1').replace(/\/+$/, '');
}

/**
 * The registry a push or pull uses: the instance given, else the configured one the option (or
 * the default registry setting) names by `url` or `name`, else the only one configured.
 * @throws {BentoportError} ERR_PLUGIN_VERSION for an instance of another apiVersion,
 * ERR_INVALID_OPTION when none, or not exactly one, matches.
 */
export async function chooseRegistry(configured: readonly Registry[], option: Registry | string | undefined): Promise<Registry> {
  if (option !== undefined && typeof option !== 'string') {
    if (option.apiVersion !== 1) {
      throw new BentoportError(
        'ERR_PLUGIN_VERSION',
        `registry plugin '${option.name}' speaks apiVersion ${String(option.apiVersion)}, this @bentoport/core speaks 1; install matching versions`,
      );
    }
    return option;
  }
  const wanted = option ?? (await readDefaultRegistry())?.url;
  if (wanted !== undefined) {
    const key = comparableUrl(wanted);
    const match = configured.find((registry) => comparableUrl(registry.url) === key || registry.name === wanted);
    if (match) return match;
    if (option !== undefined || configured.length !== 1) {
      throw new BentoportError(
        'ERR_INVALID_OPTION',
        `no registry '${redact(wanted)}' among the configured ones (${configured.map((registry) => registry.url).join(', ') || 'none'})`,
      );
    }
  }
  if (configured.length === 1) return configured[0] as Registry;
  if (configured.length === 0) {
    throw new BentoportError(
      'ERR_INVALID_OPTION',
      'no registry configured: pass one (--registry), set BENTOPORT_REGISTRY, or write `registry: <url>` in ' + bentoportConfigPath(),
    );
  }
  throw new BentoportError('ERR_INVALID_OPTION', `several registries are configured (${configured.map((registry) => registry.url).join(', ')}); choose one`);
}
