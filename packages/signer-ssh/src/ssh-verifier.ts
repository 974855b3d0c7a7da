import { readFile } from 'node:fs/promises';
import { apiVersion, type DetachedSignature, type SignatureVerifier, type VerifiedSignature } from '@bentoport/spec';
import { optionChecks, pluginFailure } from '@bentoport/plugin-kit';
import { allowsNamespaceAt, matchesPatternList, parseAllowedSigners, type AllowedSigner } from './allowed-signers.js';
import { keyFingerprint, parsePublicKeyBlob, verifyWithKey, type SshPublicKey } from './ssh-keys.js';
import { parseArmoredSignature, signedData, type SshSignature } from './sshsig.js';

const COMPONENT = 'signer-ssh';

/** Options of {@link sshVerifier}. */
export interface SshVerifierOptions {
  /**
   * The `allowed_signers` file listing who may sign, the file `ssh-keygen -Y verify -f` and git's
   * `gpg.ssh.allowedSignersFile` read.
   * @example '~/.config/bentoport/allowed_signers'
   */
  allowedSignersFile: string;
  /** The time at which keys must be valid (`valid-after`/`valid-before`). @default the current time */
  now?: () => Date;
}

/**
 * A verifier of OpenSSH signatures (`SSHSIG`) against an `allowed_signers` file, with the rules of
 * `ssh-keygen -Y verify`: the key must be listed (for the principal, when one is asked for), the
 * namespace allowed for it and the time inside its validity.
 * @example
 * const verifier = sshVerifier({ allowedSignersFile: 'allowed_signers' });
 * const { principal } = await verifier.verify(manifest, signature, 'bentoport');
 */
export function sshVerifier(options: SshVerifierOptions): SignatureVerifier {
  const check = optionChecks(COMPONENT);
  const settings = check.object(options);
  if (typeof settings.allowedSignersFile !== 'string' || settings.allowedSignersFile === '') {
    throw check.invalid('allowedSignersFile', 'the path of an allowed_signers file', settings.allowedSignersFile);
  }
  const file = settings.allowedSignersFile;
  const now = settings.now ?? ((): Date => new Date());

  async function verify(message: Uint8Array, signature: DetachedSignature, namespace: string, principal?: string): Promise<VerifiedSignature> {
    const signers = await readAllowedSigners(file);
    if (signature.scheme !== 'sshsig') throw refusal('verify', file, `the signature's scheme is ${signature.scheme}, not an SSH signature`);
    const parsed = parseSignature(signature.text);
    if (parsed.signed.namespace !== namespace) {
      throw refusal('verify', file, `the signature was made for namespace "${parsed.signed.namespace}", not "${namespace}"`);
    }
    const fingerprint = keyFingerprint(parsed.key.blob);
    if (!verifyWithKey(parsed.key, signedData(message, namespace, parsed.signed.hashAlgorithm), parsed.signed.signature)) {
      throw refusal('verify', file, `bad signature: it does not match the signed content (key ${fingerprint})`, { keyFingerprint: fingerprint, reason: 'bad-signature' });
    }
    const time = now();
    const entry = allowedEntry(signers, parsed.key, namespace, principal, time);
    if (entry === undefined) throw notAllowed(signers, file, parsed.key, fingerprint, namespace, principal, time);
    return { principal: principal ?? firstPrincipal(entry.principals), keyFingerprint: fingerprint };
  }

  return { apiVersion, name: 'ssh', verify };
}

async function readAllowedSigners(file: string): Promise<AllowedSigner[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw pluginFailure(COMPONENT, code === 'ENOENT' ? 'ERR_NOT_FOUND' : 'ERR_IO', 'read allowed signers', file, code === 'ENOENT' ? 'no such file' : (error as Error).message, { cause: error });
  }
  try {
    return parseAllowedSigners(text);
  } catch (error) {
    throw pluginFailure(COMPONENT, 'ERR_INVALID_OPTION', 'read allowed signers', file, (error as Error).message, { cause: error });
  }
}

function parseSignature(text: string): { signed: SshSignature; key: SshPublicKey } {
  try {
    const signed = parseArmoredSignature(text);
    return { signed, key: parsePublicKeyBlob(signed.publicKeyBlob) };
  } catch (error) {
    throw refusal('read signature', 'sshsig', `malformed signature: ${(error as Error).message}`, { reason: 'malformed' });
  }
}

function allowedEntry(signers: AllowedSigner[], key: SshPublicKey, namespace: string, principal: string | undefined, time: Date): AllowedSigner | undefined {
  return signers.find(
    (signer) =>
      signer.key.blob.equals(key.blob) && allowsNamespaceAt(signer, namespace, time) && (principal === undefined || matchesPatternList(signer.principals, principal)),
  );
}

/** The reason a verified signature's key is still refused, as precisely as the file allows. */
function notAllowed(
  signers: AllowedSigner[],
  file: string,
  key: SshPublicKey,
  fingerprint: string,
  namespace: string,
  principal: string | undefined,
  time: Date,
): Error {
  const listed = signers.filter((signer) => signer.key.blob.equals(key.blob));
  const expected = principal === undefined ? 'any signer it lists' : `principal "${principal}"`;
  if (listed.length === 0) {
    return refusal('verify', file, `unknown key: the signature was made by ${key.type} ${fingerprint}, which is not in the file (expected ${expected})`, {
      keyFingerprint: fingerprint,
      reason: 'unknown-key',
    });
  }
  const principals = listed.map((signer) => signer.principals).join(', ');
  const lines = `line ${listed.map((signer) => signer.line).join(', ')}`;
  const forPrincipal = principal === undefined ? listed : listed.filter((signer) => matchesPatternList(signer.principals, principal));
  if (forPrincipal.length === 0) {
    return refusal('verify', file, `key ${fingerprint} is listed for ${principals} (${lines}), not for ${expected}`, { keyFingerprint: fingerprint, reason: 'not-allowed' });
  }
  const inNamespace = forPrincipal.filter((signer) => !signer.certificateAuthority && (signer.namespaces === undefined || matchesPatternList(signer.namespaces, namespace)));
  const reason =
    inNamespace.length === 0
      ? `is not allowed to sign in namespace "${namespace}"`
      : `is outside its validity (valid-after/valid-before) at ${time.toISOString()}`;
  return refusal('verify', file, `key ${fingerprint} (listed for ${principals}, ${lines}) ${reason}`, { keyFingerprint: fingerprint, reason: 'not-allowed' });
}

function firstPrincipal(patterns: string): string {
  return patterns.split(',').find((pattern) => !pattern.startsWith('!')) ?? patterns;
}

function refusal(operation: string, target: string, reason: string, details: Record<string, unknown> = {}): Error {
  return pluginFailure(COMPONENT, 'ERR_SIGNATURE', operation, target, reason, { details });
}
