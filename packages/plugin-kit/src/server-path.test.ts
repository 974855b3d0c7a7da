import { describe, expect, it } from 'vitest';
import { parentDirectory, serverPath } from './server-path.js';

describe('serverPath', () => {
  it('keeps absolute paths and resolves /~/ against the login directory', () => {
    expect(serverPath('/srv/x.tar', '/home/u')).toBe('/srv/x.tar');
    expect(serverPath('', '/home/u')).toBe('/');
    expect(serverPath('/~/x.tar', '/home/u/')).toBe('/home/u/x.tar');
    expect(serverPath('/~', '/home/u')).toBe('/home/u');
    expect(serverPath('/~', '/')).toBe('/');
  });
});

describe('parentDirectory', () => {
  it('names the directory holding a path', () => {
    expect(parentDirectory('/a/b/c.tar')).toBe('/a/b');
    expect(parentDirectory('/c.tar')).toBe('/');
    expect(parentDirectory('/a/b/')).toBe('/a');
  });
});
