import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readBentofileModels } from './bentofile.js';

const scratch: string[] = [];
afterAll(() => Promise.all(scratch.map((directory) => rm(directory, { recursive: true, force: true }))));

async function bentofile(text: string): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'bentoport-bentofile-'));
  scratch.push(directory);
  const file = path.join(directory, 'bentofile.yaml');
  await writeFile(file, text);
  return file;
}

describe('readBentofileModels', () => {
  it('reads tags and {tag, filter, alias} mappings, in order', async () => {
    const file = await bentofile('service: "service:Svc"\nmodels:\n  - iris:v1\n  - tag: summarizer\n    filter: "label:staging"\n    alias: summ\n');
    expect(await readBentofileModels(file)).toEqual([{ tag: 'iris:v1' }, { tag: 'summarizer', filter: 'label:staging' }]);
  });

  it('gives an empty list without models:', async () => {
    expect(await readBentofileModels(await bentofile('service: "service:Svc"\n'))).toEqual([]);
  });

  it('refuses entries that are not tags, and a missing file', async () => {
    await expect(readBentofileModels(await bentofile('models:\n  - {alias: x}\n'))).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(readBentofileModels(await bentofile('models: iris\n'))).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(readBentofileModels('/nonexistent/bentofile.yaml')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });
});
