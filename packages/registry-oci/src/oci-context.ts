import type { UploadJournal } from '@bentoport/plugin-kit';
import type { Format } from '@bentoport/spec';
import type { Descriptor } from './artifact-layout.js';
import type { RegistryClient } from './registry-client.js';
import type { LocalState } from './upload-state.js';

/** What every operation of one `ociRegistry` instance shares: built once by the factory. */
export interface OciContext {
  client: RegistryClient;
  /** `host[:port]`, lower-case, for locations and messages. */
  host: string;
  /** `oci://HOST/REPOSITORY` without credentials, for messages. */
  display: string;
  /** The repository prefix items go under. */
  prefix: string;
  /** The tar codec that writes and reads layers. */
  tar: Format;
  /** The digest cache and unfinished uploads. */
  state: LocalState;
  /** Where upload sessions in flight are written down, so a killed run's can be found. */
  journal: UploadJournal;
  /** Bytes per upload `PATCH`. */
  chunkSize: number;
  /** Transient failures retried per blob upload, after the first attempt. */
  retries: number;
  /** Delay before the first retry, ms. */
  retryDelayMs: number;
  /** Model layers seen in bento manifests this instance pulled, by model tag: a fallback when `models/<name>` is absent. */
  modelLayersSeen: Map<string, { repository: string; layer: Descriptor }>;
}
