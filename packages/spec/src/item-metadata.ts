/** A BentoML tag. `version` is undefined for a bare name. Both parts are lower-case. */
export interface Tag {
  readonly name: string;
  readonly version: string | undefined;
}

/** A model a bento refers to, after BentoML's legacy conversions. */
export interface BentoModelReference {
  tag: Tag & { version: string };
  /** `bentoml` for store models (embedded on export), `huggingface` for Hub references (never embedded). */
  registry: string;
  module: string | null;
}

/** What bentoport needs from an item's yaml. The full parsed document is kept in `document`. */
export interface ItemMetadata {
  kind: 'bento' | 'model';
  tag: Tag & { version: string };
  /** `creation_time` as microseconds since the epoch (naive times are taken as UTC). */
  creationTime: number;
  /** `creation_time` as written, for display. */
  creationTimeText: string;
  /** For bentos: every model referenced (top level and services[].models, services win). */
  models: BentoModelReference[];
  labels: Record<string, string>;
  /** For models: the framework module. For bentos: the service import string. */
  module: string | null;
  /** The parsed yaml document, unchanged (bentoport never rewrites the user's file). */
  document: Record<string, unknown>;
}
