import { describe, expect, it } from 'vitest';
import { isDockerStyleReference, itemReference, registryAddress } from './registry-reference.js';

describe('registryAddress', () => {
  it.each([
    ['oci://ghcr.io/acme/bentos', 'oci://ghcr.io/acme/bentos'],
    ['bentocloud', 'bentocloud'],
    ['bentocloud://staging', 'bentocloud://staging'],
    ['ghcr.io/acme/bentos', 'oci://ghcr.io/acme/bentos'],
    ['127.0.0.1:5000/team', 'oci://127.0.0.1:5000/team'],
    ['registry:5000/team/', 'oci://registry:5000/team'],
    ['localhost/team', 'oci://localhost/team'],
    ['localhost:5000', 'oci://localhost:5000'],
    ['ghcr.io', 'oci://ghcr.io'],
    ['[::1]:5000/team', 'oci://[::1]:5000/team'],
  ])('%s is %s', (text, expected) => {
    expect(registryAddress(text)).toBe(expected);
  });

  it.each([
    ['./registry/team', 'a path is not a registry'],
    ['/srv/registry', 'a path is not a registry'],
    ['~/registry', 'a path is not a registry'],
    ['acme/bentos', 'starts with a host'],
    ['C:/registry', 'starts with a host'],
  ])('refuses %s (%s)', (text, why) => {
    expect(() => registryAddress(text)).toThrow(why);
    try {
      registryAddress(text);
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_INVALID_TARGET' });
    }
  });
});

describe('itemReference', () => {
  it('leaves a BentoML tag alone: it never has a /', () => {
    for (const tag of ['svc', 'svc:v1', 'svc:latest', 'svc:5000']) expect(itemReference(tag)).toBeUndefined();
  });

  it.each([
    ['127.0.0.1:5000/team/svc:v1', 'oci://127.0.0.1:5000/team', 'svc:v1'],
    ['ghcr.io/acme/bentos/iris_classifier', 'oci://ghcr.io/acme/bentos', 'iris_classifier'],
    ['registry:5000/svc:v1', 'oci://registry:5000', 'svc:v1'],
    ['localhost/svc:latest', 'oci://localhost', 'svc:latest'],
  ])('%s is %s and %s', (text, registry, tag) => {
    expect(itemReference(text)).toEqual({ registry, tag });
  });

  it.each(['team/svc:v1', './svc:v1', '127.0.0.1:5000/team/'])('refuses %s', (text) => {
    expect(() => itemReference(text)).toThrow(/invalid reference/);
  });

  it('tells docker-style addresses from paths and names', () => {
    expect(isDockerStyleReference('ghcr.io/acme')).toBe(true);
    expect(isDockerStyleReference('acme/bentos')).toBe(false);
    expect(isDockerStyleReference('../x.io/y')).toBe(false);
    expect(isDockerStyleReference('oci://ghcr.io/acme')).toBe(false);
  });
});
