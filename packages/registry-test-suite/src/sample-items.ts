import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ItemMetadata, RegistryItemRef, RegistryPushItem } from '@bentoport/spec';
import { itemEntries } from './item-entries.js';

/** Whole seconds: the entries' mtimes, as core sets them, survive any container exactly. */
const CREATION_SECONDS = 1_735_787_045;
const CREATION_TEXT = '2025-01-02T03:04:05+00:00';
const BENTOML_VERSION = '1.4.38';

/** Incompressible bytes from a seed (an AES-CTR keystream): a registry that compresses still sends them all. */
export function seededBytes(length: number, seed: string): Buffer {
  const key = createHash('sha256').update(`bentoport-registry-suite:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

/** A version as BentoML makes them: 16 lower-case letters and digits. */
export function newVersion(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(16)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

/**
 * Yaml, written as JSON (a subset of yaml) so the suite needs no yaml library: BentoML and
 * bentoport parse it all the same.
 */
function yamlText(document: Record<string, unknown>): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

function metadataOf(ref: RegistryItemRef, document: Record<string, unknown>, extra: Pick<ItemMetadata, 'models' | 'module'>): ItemMetadata {
  return {
    kind: ref.kind,
    tag: { name: ref.name, version: ref.version },
    creationTime: CREATION_SECONDS * 1_000_000,
    creationTimeText: CREATION_TEXT,
    labels: { owner: 'conformance' },
    document,
    ...extra,
  };
}

async function pushItem(ref: RegistryItemRef, directory: string, metadata: ItemMetadata, models: RegistryPushItem[]): Promise<RegistryPushItem> {
  const exclude = ref.kind === 'bento' ? ['models'] : [];
  let contentBytes = 0;
  for await (const entry of itemEntries(directory, CREATION_SECONDS, exclude)) contentBytes += entry.type === 'file' ? entry.size : 0;
  return { ref, metadata, directory, entries: () => itemEntries(directory, CREATION_SECONDS, exclude), contentBytes, models };
}

/** Options of {@link writeSampleModel}. */
export interface SampleModelOptions {
  /** Size of the (incompressible) weights file. @default 262144 */
  weightsBytes?: number;
}

/**
 * A model as BentoML stores it, under `<root>/models/<name>/<version>`: model.yaml, incompressible
 * weights, an executable script, an empty file and an empty directory.
 */
export async function writeSampleModel(root: string, name: string, options: SampleModelOptions = {}): Promise<RegistryPushItem> {
  const ref: RegistryItemRef = { kind: 'model', name, version: newVersion() };
  const directory = path.join(root, 'models', name, ref.version);
  await mkdir(path.join(directory, 'assets', 'empty-dir'), { recursive: true });
  const document = {
    name,
    version: ref.version,
    module: 'bentoml.sklearn',
    labels: { owner: 'conformance' },
    options: {},
    metadata: { accuracy: 0.97 },
    context: { framework_name: 'sklearn', framework_versions: { 'scikit-learn': '1.5.0' }, bentoml_version: BENTOML_VERSION, python_version: '3.11.9' },
    signatures: { predict: { batchable: false } },
    api_version: 'v1',
    creation_time: CREATION_TEXT,
  };
  await writeFile(path.join(directory, 'model.yaml'), yamlText(document));
  await writeFile(path.join(directory, 'saved_model.pkl'), seededBytes(options.weightsBytes ?? 256 * 1024, `${name}:${ref.version}`));
  await writeFile(path.join(directory, 'assets', 'run.sh'), '#!/bin/sh\nexec python -m model "$@"\n');
  await chmod(path.join(directory, 'assets', 'run.sh'), 0o755);
  await writeFile(path.join(directory, 'assets', 'empty.txt'), '');
  return pushItem(ref, directory, metadataOf(ref, document, { models: [], module: 'bentoml.sklearn' }), []);
}

/**
 * A bento as BentoML stores it, under `<root>/bentos/<name>/<version>`, referring to `models`:
 * bento.yaml, README.md, source files (one of them a symlink), an empty directory. Its entries
 * leave out `models/`, as core hands them to a registry.
 */
export async function writeSampleBento(root: string, name: string, models: RegistryPushItem[]): Promise<RegistryPushItem> {
  const ref: RegistryItemRef = { kind: 'bento', name, version: newVersion() };
  const directory = path.join(root, 'bentos', name, ref.version);
  await mkdir(path.join(directory, 'src', 'utils'), { recursive: true });
  await mkdir(path.join(directory, 'env', 'python'), { recursive: true });
  await mkdir(path.join(directory, 'apis'), { recursive: true });
  const modelInfo = models.map((model) => ({
    tag: `${model.ref.name}:${model.ref.version}`,
    module: 'bentoml.sklearn',
    creation_time: CREATION_TEXT,
    alias: null,
    registry: 'bentoml',
    metadata: {},
  }));
  const document = {
    service: 'service:Summarizer',
    name,
    version: ref.version,
    bentoml_version: BENTOML_VERSION,
    creation_time: CREATION_TEXT,
    labels: { owner: 'conformance' },
    models: modelInfo,
    runners: [],
    entry_service: 'Summarizer',
    services: [{ name: 'Summarizer', service: '', models: modelInfo, dependencies: [], config: {} }],
    envs: [],
    schema: {},
    spec: 1,
    apis: [],
    docker: { distro: 'debian', python_version: '3.11' },
    python: { requirements_txt: './requirements.txt', lock_packages: true },
    conda: { environment_yml: null },
  };
  await writeFile(path.join(directory, 'bento.yaml'), yamlText(document));
  await writeFile(path.join(directory, 'README.md'), `# ${name}\n\nA bento written by the bentoport registry conformance suite.\n`);
  await writeFile(path.join(directory, 'src', 'service.py'), 'import bentoml\n\n@bentoml.service\nclass Summarizer:\n    pass\n');
  await writeFile(path.join(directory, 'src', 'utils', '__init__.py'), '');
  await symlink('service.py', path.join(directory, 'src', 'entry.py'));
  await writeFile(path.join(directory, 'env', 'python', 'requirements.txt'), 'scikit-learn==1.5.0\n');
  await writeFile(path.join(directory, 'apis', 'openapi.yaml'), yamlText({ openapi: '3.0.2', info: { title: name } }));
  await mkdir(path.join(directory, 'env', 'docker'));
  const references = models.map((model) => ({ tag: { name: model.ref.name, version: model.ref.version }, registry: 'bentoml', module: 'bentoml.sklearn' }));
  return pushItem(ref, directory, metadataOf(ref, document, { models: references, module: 'service:Summarizer' }), models);
}
