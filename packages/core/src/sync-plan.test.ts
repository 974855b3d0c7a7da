import { describe, expect, it } from 'vitest';
import type { SyncItem } from './sync-endpoint.js';
import { matchesFilter, planSync } from './sync-plan.js';

const model = (name: string, version = 'v1', size = 1000): SyncItem => ({ kind: 'model', name, version, creationTime: 1, size, models: [], signed: false });
const bento = (name: string, version: string, models: string[], creationTime = 1): SyncItem => ({
  kind: 'bento',
  name,
  version,
  creationTime,
  size: 10,
  models: models.map((modelName) => ({ name: modelName, version: 'v1' })),
  signed: false,
});

const source = [model('enc'), model('rank'), bento('svc', 'a', ['enc'], 1), bento('svc', 'b', ['enc', 'rank'], 2), bento('other', 'a', ['rank'])];

describe('planSync', () => {
  it('sends each model once, models first, and nothing DST holds', () => {
    const plan = planSync(source, [model('enc')]);
    expect(plan.send.map((entry) => entry.label)).toEqual(['model rank:v1', 'bento other:a', 'bento svc:a', 'bento svc:b']);
    expect(plan.present.map((entry) => entry.label)).toEqual(['model enc:v1']);
    expect(plan.bytesToSend).toBe(1000 + 30);
  });

  it('filters by name or tag, keeps only the newest with latest, and brings the models along', () => {
    expect(planSync(source, [], { filter: 'svc', latest: true }).send.map((entry) => entry.label)).toEqual(['model enc:v1', 'model rank:v1', 'bento svc:b']);
    expect(planSync(source, [], { filter: 'svc:a' }).send.map((entry) => entry.label)).toEqual(['model enc:v1', 'bento svc:a']);
    expect(planSync(source, [], { filter: 'svc:latest' }).send.map((entry) => entry.label)).toEqual(['model enc:v1', 'model rank:v1', 'bento svc:b']);
    expect(planSync(source, [], { filter: ['oth*'] }).send.map((entry) => entry.label)).toEqual(['model rank:v1', 'bento other:a']);
  });

  it('warns of a model SRC lacks and leaves the total unknown when a size is', () => {
    const plan = planSync([bento('lonely', 'a', ['gone']), { ...model('x'), size: undefined }], []);
    expect(plan.missingModels).toEqual(['model gone:v1 (used by bento lonely:a)']);
    expect(plan.bytesToSend).toBeUndefined();
  });

  it('removes only with delete, within the filter, bentos first, keeping models a kept bento needs', () => {
    const destination = [...source, bento('old', 'z', ['legacy', 'enc']), model('legacy'), bento('keep', 'k', ['kept']), model('kept')];
    expect(planSync(source, destination).remove).toEqual([]);
    const plan = planSync(source, destination, { delete: true, filter: ['old', 'legacy'] });
    expect(plan.remove.map((entry) => entry.label)).toEqual(['bento old:z', 'model legacy:v1']);
    const all = planSync(source, destination, { delete: true });
    expect(all.remove.map((entry) => entry.label)).toEqual(['bento old:z', 'bento keep:k', 'model legacy:v1', 'model kept:v1']);
  });

  it('refuses an empty pattern', () => {
    expect(() => matchesFilter({ name: 'a', version: 'b' }, [''])).toThrow(/empty --filter/);
  });
});

describe('planSync with a DST that knows a bento only by name', () => {
  it('keeps the models SRC says that bento needs', () => {
    const described = bento('svc', 'a', ['enc', 'legacy']);
    const byName: SyncItem = { ...described, creationTime: 0, models: [] };
    const plan = planSync([described, model('enc')], [byName, model('enc'), model('legacy')], { delete: true });
    expect(plan.remove).toEqual([]);
  });
});
