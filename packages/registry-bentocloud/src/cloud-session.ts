import type { ArchiveEntry, Format } from '@bentoport/spec';
import { httpConnections, type ResolvedNetworkOptions, type RetryOptions } from '@bentoport/plugin-kit';
import { CloudApi } from './cloud-api.js';
import { resolveCloudContext, type CloudContext, type ContextSources } from './cloud-context.js';

/** The factory's checked settings, from which a session is built. */
export interface SessionSettings {
  /** Where the BentoCloud account comes from (options, environment, `.yatai.yaml`). */
  sources: ContextSources;
  network: ResolvedNetworkOptions;
  bentomlVersion: string;
  partSize: number;
  concurrency: number;
  /** The tar codec uploads are encoded and downloads decoded with. */
  format: Format;
  /** The exact byte length of the tar `format` writes for these entries, computed from their metadata. */
  tarLength(entries: AsyncIterable<ArchiveEntry>): Promise<number>;
}

/** What every operation of one `bentoCloudRegistry` instance shares. */
export interface CloudSession extends Omit<SessionSettings, 'sources' | 'network' | 'bentomlVersion'> {
  /** The API client, created on first use: that is when `.yatai.yaml` is read. */
  api(): CloudApi;
  /** `bentocloud://<context name>`, for messages and `Registry.url`, also when the context cannot be read yet. */
  url(): string;
  /** The API token once known, to keep it out of messages; '' before. */
  token(): string;
  retry: Pick<RetryOptions, 'retries' | 'retryDelayMs'>;
  /** One repository creation at a time per `kind/name` (BentoML PR #5095). */
  repositoryLocks: Map<string, Promise<void>>;
}

/** A session that does no I/O until its first call. */
export function createCloudSession(settings: SessionSettings): CloudSession {
  let context: CloudContext | undefined;
  let api: CloudApi | undefined;
  let url: string | undefined;
  const { sources, network } = settings;
  return {
    api() {
      if (api) return api;
      context = resolveCloudContext(sources);
      api = new CloudApi(context, httpConnections(network), settings.bentomlVersion);
      return api;
    },
    url() {
      if (url !== undefined) return url;
      try {
        url = `bentocloud://${(context ?? resolveCloudContext(sources)).name}`;
      } catch {
        url = `bentocloud://${sources.context || sources.env.BENTOML_CLOUD_CONTEXT || 'default'}`;
      }
      return url;
    },
    token: () => context?.apiToken ?? '',
    retry: { retries: network.retries, retryDelayMs: network.retryDelayMs },
    partSize: settings.partSize,
    concurrency: settings.concurrency,
    format: settings.format,
    tarLength: settings.tarLength,
    repositoryLocks: new Map(),
  };
}
