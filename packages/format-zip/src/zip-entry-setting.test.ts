import { constants } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { entrySetting } from './zip-writer.js';

const STORED = 0;
const DEFLATED = 8;

describe('entrySetting', () => {
  it('auto: stores incompressible files, deflates dense weights run-length only, the rest at 6', () => {
    expect(entrySetting('auto', 'incompressible')).toEqual({ method: STORED, level: 0 });
    expect(entrySetting('auto', 'dense')).toEqual({ method: DEFLATED, level: 1, strategy: constants.Z_RLE });
    expect(entrySetting('auto', 'compressible')).toEqual({ method: DEFLATED, level: 6 });
  });

  it('max deflates everything at 9 and store stores everything, whatever the sample said', () => {
    for (const sampled of ['incompressible', 'dense', 'compressible'] as const) {
      expect(entrySetting('max', sampled)).toEqual({ method: DEFLATED, level: 9 });
      expect(entrySetting('store', sampled)).toEqual({ method: STORED, level: 0 });
    }
  });
});
