import { createHash, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { base64Url, magnitude, unsignedFixed, WireReader, wireMpint, wireString } from './ssh-wire.js';

/** The ECDSA curves OpenSSH signs with: SSH's curve name, JWK's, the hash, the width of r and s. */
const ECDSA_CURVES = {
  nistp256: { jwk: 'P-256', hash: 'sha256', width: 32 },
  nistp384: { jwk: 'P-384', hash: 'sha384', width: 48 },
  nistp521: { jwk: 'P-521', hash: 'sha512', width: 66 },
} as const;

type EcdsaCurveName = keyof typeof ECDSA_CURVES;

/** A public key as SSH names it, with the blob it was read from and a key node:crypto can use. */
export interface SshPublicKey {
  /** The key type, e.g. `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`. */
  type: string;
  /** The key in SSH wire encoding: what `authorized_keys` carries in base64. */
  blob: Buffer;
  key: KeyObject;
}

function isEcdsaCurve(name: string): name is EcdsaCurveName {
  return Object.hasOwn(ECDSA_CURVES, name);
}

/** Reads a public key blob. Throws a plain Error naming the problem; callers wrap it. */
export function parsePublicKeyBlob(blob: Buffer): SshPublicKey {
  const reader = new WireReader(blob);
  const type = reader.text();
  if (type === 'ssh-ed25519') {
    const x = reader.string();
    return { type, blob, key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: base64Url(x) }, format: 'jwk' }) };
  }
  if (type === 'ssh-rsa') {
    const e = reader.string();
    const n = reader.string();
    return { type, blob, key: createPublicKey({ key: { kty: 'RSA', e: base64Url(magnitude(e)), n: base64Url(magnitude(n)) }, format: 'jwk' }) };
  }
  if (type.startsWith('ecdsa-sha2-')) {
    const curveName = reader.text();
    const point = reader.string();
    if (!isEcdsaCurve(curveName) || type !== `ecdsa-sha2-${curveName}`) throw new Error(`unsupported ECDSA curve ${curveName}`);
    const { jwk, width } = ECDSA_CURVES[curveName];
    if (point.length !== 1 + 2 * width || point[0] !== 4) throw new Error(`malformed ${curveName} public point`);
    const x = base64Url(point.subarray(1, 1 + width));
    const y = base64Url(point.subarray(1 + width));
    return { type, blob, key: createPublicKey({ key: { kty: 'EC', crv: jwk, x, y }, format: 'jwk' }) };
  }
  throw new Error(`unsupported key type ${type} (ssh-ed25519, ecdsa-sha2-nistp256/384/521 and ssh-rsa are)`);
}

/** Reads `TYPE BASE64 [COMMENT]`, one line of a `.pub` file or of `authorized_keys` without options. */
export function parsePublicKeyLine(line: string): SshPublicKey {
  const [type, data] = line.trim().split(/\s+/);
  if (type === undefined || data === undefined) throw new Error('expected "TYPE BASE64 [COMMENT]"');
  const key = parsePublicKeyBlob(Buffer.from(data, 'base64'));
  if (key.type !== type) throw new Error(`the key says ${key.type} but its line says ${type}`);
  return key;
}

/** `SHA256:<base64 without padding>`, as `ssh-keygen -l` and `ssh-add -l` print it. */
export function keyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The public key in `authorized_keys` form, `TYPE BASE64`. */
export function publicKeyLine(key: SshPublicKey): string {
  return `${key.type} ${key.blob.toString('base64')}`;
}

/**
 * Signs `data` with a private key, returning SSH's signature encoding (`string algorithm, string
 * blob`). RSA signs with SHA-512 (`rsa-sha2-512`), as `ssh-keygen -Y sign` does.
 */
export function signWithKey(type: string, privateKey: KeyObject, data: Buffer): Buffer {
  if (type === 'ssh-ed25519') return Buffer.concat([wireString(type), wireString(cryptoSign(null, data, privateKey))]);
  if (type === 'ssh-rsa') return Buffer.concat([wireString('rsa-sha2-512'), wireString(cryptoSign('sha512', data, privateKey))]);
  const curveName = type.slice('ecdsa-sha2-'.length);
  if (type.startsWith('ecdsa-sha2-') && isEcdsaCurve(curveName)) {
    const { hash, width } = ECDSA_CURVES[curveName];
    const raw = cryptoSign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    const inner = Buffer.concat([wireMpint(raw.subarray(0, width)), wireMpint(raw.subarray(width))]);
    return Buffer.concat([wireString(type), wireString(inner)]);
  }
  throw new Error(`unsupported key type ${type}`);
}

/**
 * Checks SSH's signature encoding of `data` against a public key. The algorithm must belong to
 * the key's type; RSA must be `rsa-sha2-256` or `rsa-sha2-512` (SHA-1 `ssh-rsa` signatures are
 * refused, as OpenSSH refuses them for SSH signatures).
 */
export function verifyWithKey(publicKey: SshPublicKey, data: Buffer, signature: Buffer): boolean {
  const reader = new WireReader(signature);
  const algorithm = reader.text();
  const blob = reader.string();
  if (publicKey.type === 'ssh-ed25519' && algorithm === 'ssh-ed25519') return cryptoVerify(null, data, publicKey.key, blob);
  if (publicKey.type === 'ssh-rsa' && (algorithm === 'rsa-sha2-512' || algorithm === 'rsa-sha2-256')) {
    return cryptoVerify(algorithm === 'rsa-sha2-512' ? 'sha512' : 'sha256', data, publicKey.key, blob);
  }
  const curveName = publicKey.type.slice('ecdsa-sha2-'.length);
  if (algorithm === publicKey.type && isEcdsaCurve(curveName)) {
    const { hash, width } = ECDSA_CURVES[curveName];
    const inner = new WireReader(blob);
    const r = unsignedFixed(inner.string(), width);
    const s = unsignedFixed(inner.string(), width);
    return cryptoVerify(hash, data, { key: publicKey.key, dsaEncoding: 'ieee-p1363' }, Buffer.concat([r, s]));
  }
  return false;
}
