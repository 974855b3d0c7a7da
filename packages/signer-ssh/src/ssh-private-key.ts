import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { parsePublicKeyBlob, type SshPublicKey } from './ssh-keys.js';
import { base64Url, magnitude, unsignedFixed, WireReader, wireMpint, wireString } from './ssh-wire.js';

/** A private key with the public key that goes into its signatures. */
export interface SshPrivateKey {
  publicKey: SshPublicKey;
  privateKey: KeyObject;
}

/** Why a key file cannot be used, in words for the user. */
export class KeyFileProblem extends Error {}

const OPENSSH_ARMOR = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/;
const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
const JWK_CURVE_TO_SSH: Record<string, string> = { 'P-256': 'nistp256', 'P-384': 'nistp384', 'P-521': 'nistp521' };

/**
 * Reads a private key file: OpenSSH's own format (what `ssh-keygen` writes by default) or PEM
 * (PKCS#8, PKCS#1 RSA, SEC1 EC; encrypted PEM with `passphrase`). An encrypted OpenSSH key needs
 * bcrypt-pbkdf, which Node does not have: such keys are used through ssh-agent instead.
 */
export function parsePrivateKey(text: string, passphrase?: string): SshPrivateKey {
  const armored = OPENSSH_ARMOR.exec(text);
  if (armored !== null) return parseOpensshPrivateKey(Buffer.from((armored[1] as string).replace(/\s+/g, ''), 'base64'));
  if (!text.includes('PRIVATE KEY-----')) throw new KeyFileProblem('it is not a private key (expected an OpenSSH or PEM private key)');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(passphrase === undefined ? { key: text, format: 'pem' } : { key: text, format: 'pem', passphrase });
  } catch (error) {
    const encrypted = /ENCRYPTED|Proc-Type: 4,ENCRYPTED/.test(text);
    throw new KeyFileProblem(encrypted && passphrase === undefined ? 'the key is encrypted: give its passphrase' : `it cannot be read (${(error as Error).message})`);
  }
  return { privateKey, publicKey: parsePublicKeyBlob(publicBlobOf(privateKey)) };
}

/** The SSH public key blob of a node:crypto key (ed25519, ECDSA P-256/384/521 or RSA). */
export function publicBlobOf(key: KeyObject): Buffer {
  const jwk = createPublicKey(key).export({ format: 'jwk' }) as JsonWebKey;
  const bytes = (value: string | undefined): Buffer => Buffer.from(value ?? '', 'base64url');
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return Buffer.concat([wireString('ssh-ed25519'), wireString(bytes(jwk.x))]);
  if (jwk.kty === 'RSA') return Buffer.concat([wireString('ssh-rsa'), wireMpint(bytes(jwk.e)), wireMpint(bytes(jwk.n))]);
  const curve = jwk.kty === 'EC' ? JWK_CURVE_TO_SSH[jwk.crv ?? ''] : undefined;
  if (curve !== undefined) {
    const point = Buffer.concat([Buffer.from([4]), bytes(jwk.x), bytes(jwk.y)]);
    return Buffer.concat([wireString(`ecdsa-sha2-${curve}`), wireString(curve), wireString(point)]);
  }
  throw new KeyFileProblem(`its key type (${key.asymmetricKeyType ?? 'unknown'}${jwk.crv === undefined ? '' : ` ${jwk.crv}`}) cannot make SSH signatures`);
}

/** openssh-key-v1: magic, cipher, kdf, kdf options, key count, public key, private section. */
function parseOpensshPrivateKey(data: Buffer): SshPrivateKey {
  if (!data.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) throw new KeyFileProblem('its OpenSSH key header is damaged');
  const reader = new WireReader(data.subarray(OPENSSH_MAGIC.length));
  const cipher = reader.text();
  reader.text(); // kdf name
  reader.string(); // kdf options
  if (cipher !== 'none') throw new KeyFileProblem(`the key is encrypted (${cipher}): add it to ssh-agent (ssh-add KEY) and sign with the agent`);
  if (reader.uint32() !== 1) throw new KeyFileProblem('it holds several keys; use a file with one');
  const publicKey = parsePublicKeyBlob(reader.string());
  const section = new WireReader(reader.string());
  if (section.uint32() !== section.uint32()) throw new KeyFileProblem('its private section is damaged (check values differ)');
  const type = section.text();
  if (type !== publicKey.type) throw new KeyFileProblem(`its private key (${type}) does not match its public key (${publicKey.type})`);
  return { publicKey, privateKey: createPrivateKey({ key: privateJwk(type, section), format: 'jwk' }) };
}

function privateJwk(type: string, section: WireReader): JsonWebKey {
  if (type === 'ssh-ed25519') {
    const x = section.string();
    const seedAndPublic = section.string();
    return { kty: 'OKP', crv: 'Ed25519', x: base64Url(x), d: base64Url(seedAndPublic.subarray(0, 32)) };
  }
  if (type.startsWith('ecdsa-sha2-')) {
    const curve = section.text();
    const point = section.string();
    const d = section.string();
    const width = (point.length - 1) / 2;
    const crv = Object.entries(JWK_CURVE_TO_SSH).find(([, ssh]) => ssh === curve)?.[0];
    if (crv === undefined) throw new KeyFileProblem(`unsupported ECDSA curve ${curve}`);
    return { kty: 'EC', crv, x: base64Url(point.subarray(1, 1 + width)), y: base64Url(point.subarray(1 + width)), d: base64Url(unsignedFixed(d, width)) };
  }
  if (type === 'ssh-rsa') return rsaJwk(section);
  throw new KeyFileProblem(`its key type ${type} cannot be used (ssh-ed25519, ecdsa-sha2-nistp256/384/521 and ssh-rsa can)`);
}

/** OpenSSH keeps n, e, d, iqmp, p, q; JWK also wants d mod (p-1) and d mod (q-1). */
function rsaJwk(section: WireReader): JsonWebKey {
  const [n, e, d, iqmp, p, q] = [section.string(), section.string(), section.string(), section.string(), section.string(), section.string()];
  const big = (bytes: Buffer): bigint => BigInt(`0x${bytes.toString('hex') || '0'}`);
  const toBytes = (value: bigint): Buffer => {
    const hex = value.toString(16);
    return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  };
  const strip = (bytes: Buffer): string => base64Url(magnitude(bytes));
  const dValue = big(d);
  return {
    kty: 'RSA',
    n: strip(n), e: strip(e), d: strip(d), p: strip(p), q: strip(q), qi: strip(iqmp),
    dp: base64Url(toBytes(dValue % (big(p) - 1n))),
    dq: base64Url(toBytes(dValue % (big(q) - 1n))),
  };
}
