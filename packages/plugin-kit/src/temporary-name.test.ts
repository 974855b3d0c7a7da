import { describe, expect, it } from 'vitest';
import { temporarySiblingName, temporarySiblingPath } from './temporary-name.js';

const TEMPORARY = /^\.(.+)\.bentoport-[0-9a-f]{12}\.tmp$/;

describe('temporary sibling names', () => {
  it('hides the name, marks it as ours and makes it unique', () => {
    const name = temporarySiblingName('svc-v1.bento');
    expect(TEMPORARY.exec(name)?.[1]).toBe('svc-v1.bento');
    expect(temporarySiblingName('svc-v1.bento')).not.toBe(name);
  });

  it('stays within 255 bytes for the longest names', () => {
    expect(temporarySiblingName('x'.repeat(255)).length).toBeLessThanOrEqual(255);
  });

  it('puts a server path’s temporary name in the same directory', () => {
    expect(temporarySiblingPath('/data/out/svc.bento')).toMatch(/^\/data\/out\/\.svc\.bento\.bentoport-[0-9a-f]{12}\.tmp$/);
    expect(temporarySiblingPath('/svc.bento')).toMatch(/^\/\.svc\.bento\.bentoport-[0-9a-f]{12}\.tmp$/);
    expect(temporarySiblingPath('relative/svc.bento')).toMatch(/^relative\/\.svc\.bento\.bentoport-/);
  });
});
