import { describe, expect, it } from 'vitest';
import { modelReferences } from './model-references.js';

describe('modelReferences', () => {
  it('reads name:version strings and leaves out anything else', () => {
    expect(modelReferences(['iris:v1', 'bad', 'a:b:c', 3, ':v', 'n:', 'tok.x:2'])).toEqual([
      { name: 'iris', version: 'v1' },
      { name: 'tok.x', version: '2' },
    ]);
    expect(modelReferences(undefined)).toEqual([]);
  });
});
