import type { Registry, RegistryPushItem } from '@bentoport/spec';
import { writeSampleBento, writeSampleModel, type SampleModelOptions } from './sample-items.js';

/** What every conformance check receives. */
export interface CheckContext {
  readonly registry: Registry;
  /** The registry with refused credentials, when the suite was given one. */
  readonly badCredentials: Registry | undefined;
  /** Strings that must never appear in an error message. */
  readonly secrets: readonly string[];
  /** A new model item in the scratch directory; a name of its own unless `name` is given (for a second version). */
  model(label: string, options?: SampleModelOptions & { name?: string }): Promise<RegistryPushItem>;
  /** A new bento item in the scratch directory, referring to `models`; a name of its own unless `name` is given. */
  bento(label: string, models?: RegistryPushItem[], options?: { name?: string }): Promise<RegistryPushItem>;
}

/** Item names no earlier run used: `c<time><random>-<label>`, valid for BentoML and OCI alike. */
export function namePrefix(): string {
  return `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export function checkContext(registry: Registry, badCredentials: Registry | undefined, secrets: readonly string[], scratch: string, prefix: string): CheckContext {
  return {
    registry,
    badCredentials,
    secrets,
    model: (label, options = {}) => writeSampleModel(scratch, options.name ?? `${prefix}-${label}`, options),
    bento: (label, models = [], options = {}) => writeSampleBento(scratch, options.name ?? `${prefix}-${label}`, models),
  };
}
