import { readFile } from 'node:fs/promises';
import { apiVersion, BentoportError, type DetachedSignature, type Signer } from '@bentoport/spec';
import { optionChecks, pluginFailure, throwIfAborted } from '@bentoport/plugin-kit';
import { agentIdentities, agentSign } from './ssh-agent-client.js';
import { keyFingerprint, parsePublicKeyLine, signWithKey } from './ssh-keys.js';
import { KeyFileProblem, parsePrivateKey } from './ssh-private-key.js';
import { armorSignature, signedData } from './sshsig.js';

const COMPONENT = 'signer-ssh';
const HASH = 'sha512';

/** Options of {@link sshSigner}. */
export interface SshSignerOptions {
  /**
   * The key, as `ssh-keygen -Y sign -f` takes it: a private key file (OpenSSH or PEM), or a public
   * key file (`.pub`), whose private half the agent holds. Encrypted OpenSSH keys are used through
   * the agent (give the `.pub`).
   * @example '~/.ssh/id_ed25519'
   */
  keyFile: string;
  /** The passphrase of an encrypted PEM key file. @default undefined (the key is not encrypted) */
  passphrase?: string;
  /** The agent's socket, for a public key file. @default process.env.SSH_AUTH_SOCK */
  agentSocket?: string;
  /** How long the agent may take to answer. @default 30000 (a hardware key may wait for a touch) */
  timeoutMs?: number;
}

/**
 * A signer that makes OpenSSH signatures (`SSHSIG`), the format `ssh-keygen -Y sign` writes and
 * git uses for SSH-signed commits, with a key file or through ssh-agent.
 * @example
 * const signer = sshSigner({ keyFile: `${os.homedir()}/.ssh/id_ed25519` });
 * const signature = await signer.sign(manifest, 'bentoport');
 */
export function sshSigner(options: SshSignerOptions): Signer {
  const check = optionChecks(COMPONENT);
  const settings = check.object(options);
  if (typeof settings.keyFile !== 'string' || settings.keyFile === '') throw check.invalid('keyFile', 'the path of a key file', settings.keyFile);
  const passphrase = check.optionalString('passphrase', settings.passphrase);
  const agentSocket = check.optionalString('agentSocket', settings.agentSocket);
  const timeoutMs = check.integer('timeoutMs', settings.timeoutMs, 30_000, 1);
  const keyFile = settings.keyFile;

  async function sign(message: Uint8Array, namespace: string, signal?: AbortSignal): Promise<DetachedSignature> {
    throwIfAborted(signal, COMPONENT, 'sign', keyFile);
    const keyText = await readKeyFile(keyFile);
    const data = signedData(message, namespace, HASH);
    const isPublic = !keyText.includes('PRIVATE KEY-----');
    const { publicKeyBlob, signature } = isPublic
      ? await signWithAgent(keyFile, keyText, data, agentSocket ?? process.env.SSH_AUTH_SOCK, timeoutMs, signal)
      : signWithKeyFile(keyFile, keyText, data, passphrase);
    return { scheme: 'sshsig', text: armorSignature({ publicKeyBlob, namespace, hashAlgorithm: HASH, signature }) };
  }

  return { apiVersion, name: 'ssh', sign };
}

async function readKeyFile(keyFile: string): Promise<string> {
  try {
    return await readFile(keyFile, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw pluginFailure(COMPONENT, code === 'ENOENT' ? 'ERR_NOT_FOUND' : 'ERR_IO', 'read key', keyFile, code === 'ENOENT' ? 'no such file' : (error as Error).message, { cause: error });
  }
}

function signWithKeyFile(keyFile: string, keyText: string, data: Buffer, passphrase: string | undefined): { publicKeyBlob: Buffer; signature: Buffer } {
  try {
    const key = parsePrivateKey(keyText, passphrase);
    return { publicKeyBlob: key.publicKey.blob, signature: signWithKey(key.publicKey.type, key.privateKey, data) };
  } catch (error) {
    if (error instanceof BentoportError) throw error;
    const reason = error instanceof KeyFileProblem ? error.message : `it cannot sign (${(error as Error).message})`;
    throw pluginFailure(COMPONENT, 'ERR_SIGNATURE', 'sign with', keyFile, reason, { cause: error });
  }
}

async function signWithAgent(
  keyFile: string,
  keyText: string,
  data: Buffer,
  socketPath: string | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<{ publicKeyBlob: Buffer; signature: Buffer }> {
  let blob: Buffer;
  try {
    blob = parsePublicKeyLine(keyText).blob;
  } catch (error) {
    throw pluginFailure(COMPONENT, 'ERR_SIGNATURE', 'sign with', keyFile, `it is neither a private key nor a public key (${(error as Error).message})`, { cause: error });
  }
  const fingerprint = keyFingerprint(blob);
  if (socketPath === undefined || socketPath === '') {
    throw pluginFailure(COMPONENT, 'ERR_SIGNATURE', 'sign with', keyFile, `it is a public key, and no ssh-agent is running to sign with its private half (SSH_AUTH_SOCK is not set): start one and ssh-add the key, or give the private key file`);
  }
  try {
    const identities = await agentIdentities(socketPath, timeoutMs, signal);
    if (!identities.some((identity) => identity.blob.equals(blob))) {
      throw pluginFailure(COMPONENT, 'ERR_SIGNATURE', 'sign with', keyFile, `ssh-agent does not hold this key (${fingerprint}); add it with ssh-add`);
    }
    return { publicKeyBlob: blob, signature: await agentSign(socketPath, blob, data, timeoutMs, signal) };
  } catch (error) {
    if (error instanceof BentoportError) throw error;
    throwIfAborted(signal, COMPONENT, 'sign', keyFile);
    throw pluginFailure(COMPONENT, 'ERR_SIGNATURE', 'sign through ssh-agent', socketPath, (error as Error).message, { cause: error });
  }
}
