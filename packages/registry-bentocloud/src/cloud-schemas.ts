import { open } from 'node:fs/promises';
import path from 'node:path';
import type { RegistryPushItem } from '@bentoport/spec';

/** READMEs above this are sent as an empty description: BentoCloud refuses bodies over 4 MB (BentoML PR #5420). */
export const README_LIMIT = 3 * 1024 * 1024;

/**
 * A time as BentoCloud's API takes it: `%Y-%m-%d %H:%M:%S.%f` in UTC, without a zone (the
 * API's datetimes carry none, so only UTC is unambiguous), as BentoML's client writes them.
 */
export function formatCloudTime(microseconds: number): string {
  const millis = Math.floor(microseconds / 1000);
  const iso = new Date(millis).toISOString(); // 2025-01-02T03:04:05.678Z
  const micros = String(((microseconds % 1_000_000) + 1_000_000) % 1_000_000).padStart(6, '0');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${micros}`;
}

type Json = Record<string, unknown>;

function asObject(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function labelsOf(labels: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(labels).map(([key, value]) => ({ key, value: String(value) }));
}

/** A bento.yaml model entry with every key, as BentoML's cloud converter emits it (no omission of defaults). */
function fullModelInfo(model: unknown): Json {
  const info = asObject(model);
  return {
    tag: info.tag ?? '',
    module: info.module ?? '',
    creation_time: info.creation_time ?? '',
    alias: info.alias ?? null,
    registry: info.registry ?? 'bentoml',
    metadata: asObject(info.metadata),
  };
}

/** BentoManifestSchema, keys in the order BentoML's client sends them. */
export function bentoManifest(item: RegistryPushItem): Json {
  const document = item.metadata.document;
  const spec = document.spec === 2 ? 2 : 1;
  const sizeBytes = item.contentBytes + item.models.reduce((total, model) => total + model.contentBytes, 0);
  return {
    service: document.service ?? '',
    bentoml_version: String(document.bentoml_version ?? ''),
    size_bytes: sizeBytes,
    entry_service: document.entry_service ?? '',
    name: item.ref.name,
    apis: {},
    models: item.metadata.models.map((model) => `${model.tag.name}:${model.tag.version}`),
    runners:
      spec === 1
        ? asList(document.runners).map((runner) => {
            const fields = asObject(runner);
            return { name: fields.name ?? '', runnable_type: fields.runnable_type ?? '', models: asList(fields.models), resource_config: fields.resource_config ?? null };
          })
        : [],
    services: asList(document.services).map((service) => {
      const fields = asObject(service);
      return {
        name: fields.name ?? '',
        service: fields.service ?? '',
        models: asList(fields.models).map(fullModelInfo),
        dependencies: asList(fields.dependencies),
        config: asObject(fields.config),
      };
    }),
    envs: asList(document.envs),
    schema: asObject(document.schema),
    version: item.ref.version,
    dev: false,
    image: spec === 2 && document.image !== undefined && document.image !== null ? document.image : null,
    spec,
  };
}

/** The model manifest: `{module, api_version, bentoml_version, size_bytes, metadata, context, options}`. */
export function modelManifest(item: RegistryPushItem): Json {
  const document = item.metadata.document;
  const context = asObject(document.context);
  return {
    module: document.module ?? '',
    api_version: document.api_version ?? 'v1',
    bentoml_version: String(context.bentoml_version ?? document.bentoml_version ?? ''),
    size_bytes: item.contentBytes,
    metadata: asObject(document.metadata),
    context,
    options: asObject(document.options),
  };
}

/** The bento's README.md as its description, "" when absent or over {@link README_LIMIT}. */
export async function readDescription(item: RegistryPushItem, onWarning: (message: string) => void): Promise<string> {
  if (item.ref.kind !== 'bento') return '';
  let handle;
  try {
    handle = await open(path.join(item.directory, 'README.md'), 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await handle.stat();
    if (size > README_LIMIT) {
      onWarning(`Bento README is too large (${size} bytes, the limit is ${README_LIMIT}); it is not sent as the description`);
      return '';
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** CreateBentoSchema / CreateModelSchema, keys in BentoML's order. */
export async function createSchema(item: RegistryPushItem, onWarning: (message: string) => void): Promise<Json> {
  return {
    description: await readDescription(item, onWarning),
    version: item.ref.version,
    manifest: item.ref.kind === 'bento' ? bentoManifest(item) : modelManifest(item),
    build_at: formatCloudTime(item.metadata.creationTime),
    labels: labelsOf(item.metadata.labels),
  };
}
