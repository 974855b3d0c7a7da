import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BentoportError, type SignatureVerifier } from '@bentoport/spec';
import { parseSignaturePolicy, requiredSignature } from './signature-policy.js';

const verifierFor = (file: string): SignatureVerifier => ({
  apiVersion: 1 as SignatureVerifier['apiVersion'],
  name: `verifier of ${file}`,
  verify: async (_message, _signature, _namespace, principal) => ({ principal: principal ?? 'anyone', keyFingerprint: file }),
});

const policy = parseSignaturePolicy(
  {
    default: 'reject',
    sources: {
      's3://models/': { signedBy: { allowedSigners: 'team_signers' } },
      's3://models/prod': { signedBy: { allowedSigners: '/etc/ci_signers', principals: ['ci@example.com'] } },
      'oci://user:secret@registry.example.com/team': 'insecureAcceptAnything',
      './drops': { signedBy: { allowedSigners: 'drop_signers', principals: ['a@example.com', 'b@example.com'] } },
    },
  },
  '/etc/bentoport/policy.yaml',
  { verifierFor, baseDirectory: '/etc/bentoport' },
);

describe('signature policy', () => {
  it('picks the most specific entry covering a source, at a path boundary, else the default', () => {
    expect(policy.ruleFor('s3://models/prod/svc.bento').entry).toBe('s3://models/prod');
    expect(policy.ruleFor('s3://models/production.bento').entry).toBe('s3://models/');
    expect(policy.ruleFor('s3://models/dev/svc.bento?X-Amz-Signature=abc').rule).toEqual({ type: 'signedBy', allowedSigners: '/etc/bentoport/team_signers', principals: [] });
    expect(policy.ruleFor('oci://registry.example.com/team/svc').rule.type).toBe('insecureAcceptAnything');
    expect(policy.ruleFor('oci://registry.example.com/teammates/svc').entry).toBe('default');
    expect(policy.ruleFor(path.join('/etc/bentoport/drops', 'svc.tar')).entry).toBe('./drops');
    expect(policy.ruleFor('-').entry).toBe('default');
  });

  it('turns a rule into the check an import makes, naming the rule; reject refuses at once', async () => {
    const check = requiredSignature({ signaturePolicy: policy }, 's3://models/prod/svc.bento', '[import] s3://models/prod/svc.bento', 'imported');
    expect(check).toMatchObject({ principal: 'ci@example.com', requiredBy: 'signature policy /etc/bentoport/policy.yaml, sources["s3://models/prod"]' });
    expect(requiredSignature({ signaturePolicy: policy }, 'oci://registry.example.com/team/svc', 'svc', 'pulled')).toBeUndefined();
    const either = requiredSignature({ signaturePolicy: policy }, '/etc/bentoport/drops/svc.tar', 'x', 'imported');
    expect(await either?.verifier.verify(new Uint8Array(), { scheme: 'sshsig', text: '' }, 'bentoport')).toMatchObject({ principal: 'a@example.com' });
    expect(() => requiredSignature({ signaturePolicy: policy }, '/srv/other.tar', '[import] /srv/other.tar', 'imported')).toThrow(
      '[import] /srv/other.tar: /srv/other.tar is refused by signature policy /etc/bentoport/policy.yaml, default (reject), whatever its signature; nothing was imported',
    );
    const explicit = { verifier: verifierFor('x') };
    expect(requiredSignature({ signaturePolicy: policy, requireSignature: explicit }, '/srv/other.tar', 'x', 'imported')).toBe(explicit);
  });

  it('refuses a document that is not a policy, naming the entry', () => {
    const parse = (document: unknown) => () => parseSignaturePolicy(document, 'p.yaml', { verifierFor });
    expect(parse({ sources: {} })).toThrow('signature policy p.yaml: default: missing');
    expect(parse({ default: 'accept' })).toThrow('default: expected one of insecureAcceptAnything, reject, signedBy, got "accept"');
    expect(parse({ default: 'reject', sources: { 's3://b': { signedBy: {} } } })).toThrow('sources["s3://b"]: signedBy needs allowedSigners: FILE');
    expect(parse({ default: 'reject', rules: {} })).toThrow('rules: unknown key');
    expect(parse({ default: 'reject', sources: ['s3://b'] })).toThrow(BentoportError);
  });
});
