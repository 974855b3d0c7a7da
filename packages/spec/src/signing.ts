import type { ApiVersion } from './api-version.js';

/**
 * A detached signature over a message, in a scheme's own text form. For SSH signatures this is
 * the armored `-----BEGIN SSH SIGNATURE-----` block that `ssh-keygen -Y sign` writes, so the file
 * can be checked with the scheme's own tools.
 */
export interface DetachedSignature {
  /** The scheme, e.g. `sshsig`. Verifiers refuse schemes they do not know. */
  scheme: string;
  /** The signature as its scheme writes it to a file (text, newline-terminated). */
  text: string;
}

/**
 * Makes signatures. Keys stay with the signer: a key file, an agent, a KMS. The engine hands it
 * the bytes to sign (a content manifest) and stores what comes back beside the item or archive.
 */
export interface Signer {
  apiVersion: ApiVersion;
  /** Names the signer in messages, e.g. `ssh-key`, `ssh-agent`. */
  name: string;
  /**
   * Signs `message` under `namespace` (the purpose the signature is bound to, so a signature
   * made for one purpose is refused for another).
   * @throws BentoportError `ERR_SIGNATURE` when the key cannot sign; `ERR_NOT_FOUND` when it is missing.
   */
  sign(message: Uint8Array, namespace: string, signal?: AbortSignal): Promise<DetachedSignature>;
}

/** Who made a signature that verified. */
export interface VerifiedSignature {
  /** The principal of the policy entry whose key made it (e.g. `ci@example.com`). */
  principal: string;
  /** The key's fingerprint as `ssh-keygen -l` prints it, e.g. `SHA256:…`. */
  keyFingerprint: string;
}

/** Checks signatures against a policy of allowed signers (an `allowed_signers` file, say). */
export interface SignatureVerifier {
  apiVersion: ApiVersion;
  /** Names the verifier in messages. */
  name: string;
  /**
   * Checks that `signature` is a valid signature of `message` under `namespace` by a signer the
   * policy allows (for `principal`, when given).
   * @throws BentoportError `ERR_SIGNATURE`, naming what was expected and what was found: an
   * unknown key, a key not allowed for the principal or namespace, or a signature that does not
   * verify.
   */
  verify(message: Uint8Array, signature: DetachedSignature, namespace: string, principal?: string): Promise<VerifiedSignature>;
}
