import { describe, expect, it } from 'vitest';
import { isBentoportError } from '@bentoport/spec';
import { parseBentoYaml, parseCreationTime, parseModelYaml } from './metadata.js';

const SPEC2 = `service: service:Summarization
name: summarization
version: u432a5xip2dc6ax4
bentoml_version: 1.4.38
creation_time: '2025-01-02T03:04:05.678901+00:00'
labels:
  owner: bentoml-team
models:
- tag: summarization-model:btwtmvu5kwqc67i3
  module: ''
  creation_time: '2025-01-02T03:04:05.678901+00:00'
- tag: hf-model:0123456789abcdef0123456789abcdef
  module: ''
  creation_time: '2025-01-02T03:04:05.678901+00:00'
  registry: huggingface
entry_service: Summarization
services:
- name: Summarization
  service: ''
  models:
  - tag: summarization-model:btwtmvu5kwqc67i3
    module: transformers
    creation_time: '2025-01-02T03:04:05.678901+00:00'
  - tag: tokenizer:aaaa
    module: ''
    creation_time: '2025-01-02T03:04:05+00:00'
  dependencies: []
  config: {}
envs: []
schema: {}
args: {}
spec: 2
image:
  base_image: python:3.11-slim
  python_version: '3.11'
`;

function failure(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    expect(isBentoportError(error, 'ERR_INVALID_METADATA')).toBe(true);
    return error as Error;
  }
  throw new Error('expected ERR_INVALID_METADATA');
}

describe('bento.yaml', () => {
  it('reads tag, time and the merged model list (services win)', () => {
    const metadata = parseBentoYaml(SPEC2);
    expect(metadata.tag).toEqual({ name: 'summarization', version: 'u432a5xip2dc6ax4' });
    expect(metadata.creationTime).toBe(Date.UTC(2025, 0, 2, 3, 4, 5) * 1000 + 678901);
    expect(metadata.models.map((model) => [`${model.tag.name}:${model.tag.version}`, model.registry, model.module])).toEqual([
      ['summarization-model:btwtmvu5kwqc67i3', 'bentoml', 'transformers'],
      ['hf-model:0123456789abcdef0123456789abcdef', 'huggingface', ''],
      ['tokenizer:aaaa', 'bentoml', ''],
    ]);
    expect(metadata.labels).toEqual({ owner: 'bentoml-team' });
  });

  it('accepts the legacy list of model tag strings', () => {
    const metadata = parseBentoYaml('service: s:S\nname: a\nversion: b\nmodels:\n- m:v1\n');
    expect(metadata.models).toEqual([{ tag: { name: 'm', version: 'v1' }, registry: 'bentoml', module: 'unknown' }]);
  });

  it('names a missing required field', () => {
    expect(failure(() => parseBentoYaml('name: a\nversion: b\n')).message).toBe("bento.yaml: missing required field 'service'");
    expect(failure(() => parseBentoYaml('service: s\nversion: b\n')).message).toBe("bento.yaml: missing required field 'name'");
    expect(failure(() => parseBentoYaml('service: s\nname: a\n')).message).toBe("bento.yaml: missing required field 'version'");
  });

  it('names a wrong field type, a bad tag and malformed YAML', () => {
    expect(failure(() => parseBentoYaml('service: s\nname: a\nversion: b\nlabels: [1]\n')).message).toContain("'labels' must be a mapping");
    expect(failure(() => parseBentoYaml('service: s\nname: A B\nversion: b\n')).message).toContain('not a valid BentoML tag');
    expect(failure(() => parseBentoYaml('service: [\n')).message).toMatch(/^bento\.yaml is not valid YAML/);
    expect(failure(() => parseBentoYaml('')).message).toBe('bento.yaml is malformed: it must be a mapping');
    expect(failure(() => parseBentoYaml('service: s\nname: a\nversion: b\ncreation_time: yesterday\n')).message).toContain(
      'creation_time',
    );
  });

  it("refuses unknown keys in spec-1 docker/python/conda, which BentoML can't load", () => {
    const text = 'service: s\nname: a\nversion: b\nspec: 1\ndocker:\n  distro: debian\n  colour: blue\n';
    expect(failure(() => parseBentoYaml(text)).message).toContain("unknown key 'docker.colour'");
    expect(() => parseBentoYaml('service: s\nname: a\nversion: b\nunknown_top_level: 1\n')).not.toThrow();
  });
});

describe('model.yaml', () => {
  it('reads name, version, module and time', () => {
    const metadata = parseModelYaml(
      "name: iris\nversion: abc\nmodule: bentoml.sklearn\nlabels: {}\ncreation_time: '2024-05-06T07:08:09.000010+02:00'\n",
    );
    expect(metadata.tag).toEqual({ name: 'iris', version: 'abc' });
    expect(metadata.module).toBe('bentoml.sklearn');
    expect(metadata.creationTime).toBe(Date.UTC(2024, 4, 6, 5, 8, 9) * 1000 + 10);
  });
  it('must be a mapping with a name', () => {
    expect(failure(() => parseModelYaml('- a\n')).message).toBe('model.yaml is malformed: it must be a mapping');
    expect(failure(() => parseModelYaml('version: a\n')).message).toBe("model.yaml: missing required field 'name'");
  });
});

describe('creation times compare as instants', () => {
  it('handles offsets, Z, naive (as UTC) and microseconds', () => {
    const base = parseCreationTime('2025-01-02T03:04:05+00:00') as number;
    expect(parseCreationTime('2025-01-02T03:04:05Z')).toBe(base);
    expect(parseCreationTime('2025-01-02T03:04:05')).toBe(base);
    expect(parseCreationTime('2025-01-02T04:04:05+01:00')).toBe(base);
    expect(parseCreationTime('2025-01-01T22:04:05-05:00')).toBe(base);
    expect(parseCreationTime('2025-01-02T03:04:05.000001+00:00')).toBe(base + 1);
    expect(parseCreationTime('2025-01-02 03:04:05.5')).toBe(base + 500000);
    expect(parseCreationTime('not a time')).toBeUndefined();
  });
});
