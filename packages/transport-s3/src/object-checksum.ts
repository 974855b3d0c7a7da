import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { HeadObjectCommand, type HeadObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';

/** Checksums computed in this process; CRC32C and CRC64NVME are not (the SHA-256 sidecar still covers those objects). */
type Algorithm = 'SHA256' | 'SHA1' | 'CRC32';

/** The most parts whose sizes are asked one by one (HEAD ?partNumber=N) when they are not all equal. */
const MAX_PART_LOOKUPS = 10_000;

interface RunningDigest {
  update(chunk: Buffer): void;
  /** Raw digest bytes. */
  digest(): Buffer;
}

function runningDigest(algorithm: Algorithm): RunningDigest {
  if (algorithm === 'CRC32') {
    let value = 0;
    return {
      update: (chunk) => {
        value = crc32(chunk, value);
      },
      digest: () => {
        const bytes = Buffer.alloc(4);
        bytes.writeUInt32BE(value >>> 0);
        return bytes;
      },
    };
  }
  const hash: Hash = createHash(algorithm === 'SHA256' ? 'sha256' : 'sha1');
  return { update: (chunk) => hash.update(chunk), digest: () => hash.digest() };
}

/** What the object says about itself, read from HeadObject with ChecksumMode ENABLED. */
interface Expectation {
  algorithm: Algorithm;
  /** Base64 digest without a `-N` suffix. */
  value: string;
  /** Whether the value is over the parts' digests; undefined when the server does not say (then either may match). */
  composite: boolean | undefined;
  /** Number of parts of a multipart object (from the ETag or checksum suffix). */
  partsCount: number | undefined;
}

function partsCountOf(text: string | undefined): number | undefined {
  const match = /-(\d+)"?$/.exec(text ?? '');
  return match ? Number(match[1]) : undefined;
}

export function expectationOf(head: HeadObjectCommandOutput): Expectation | undefined {
  const candidates: [Algorithm, string | undefined][] = [
    ['SHA256', head.ChecksumSHA256],
    ['SHA1', head.ChecksumSHA1],
    ['CRC32', head.ChecksumCRC32],
  ];
  const found = candidates.find(([, value]) => value !== undefined && value !== '');
  if (found === undefined) return undefined;
  const [algorithm, raw] = found as [Algorithm, string];
  const partsCount = partsCountOf(raw) ?? partsCountOf(head.ETag) ?? head.PartsCount;
  const type = head.ChecksumType;
  // SHA checksums of a multipart object are always composite; a CRC may be either.
  const composite =
    type === 'COMPOSITE' ? true : type === 'FULL_OBJECT' ? false : partsCount === undefined ? false : algorithm === 'CRC32' ? undefined : true;
  return { algorithm, value: raw.replace(/-\d+$/, ''), composite, partsCount };
}

/** Checks the bytes of a whole-object read, in order, against the checksum the object carries. */
export interface ObjectVerifier {
  readonly algorithm: Algorithm;
  update(chunk: Buffer): void;
  /** Undefined when the bytes match, else a sentence describing the mismatch. */
  finish(): string | undefined;
}

async function partSizes(client: S3Client, bucket: string, key: string, size: number, count: number, signal: AbortSignal | undefined): Promise<number[] | undefined> {
  // No If-Match here (moto answers 412 to it with a part number): the ranged GETs carry it.
  const head = (partNumber: number) =>
    client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: partNumber }), { abortSignal: signal });
  const first = (await head(1)).ContentLength;
  if (first === undefined || first <= 0) return undefined;
  if (Math.ceil(size / first) === count) {
    return Array.from({ length: count }, (_, index) => (index === count - 1 ? size - first * (count - 1) : first));
  }
  if (count > MAX_PART_LOOKUPS) return undefined;
  const sizes = [first];
  for (let partNumber = 2; partNumber <= count; partNumber++) {
    const length = (await head(partNumber)).ContentLength;
    if (length === undefined) return undefined;
    sizes.push(length);
  }
  return sizes.reduce((total, length) => total + length, 0) === size ? sizes : undefined;
}

/**
 * A verifier for the whole object, or undefined when it carries no checksum we can compute (or
 * its part boundaries cannot be learnt). A composite checksum is the digest of the parts'
 * digests: the part sizes come from `HEAD ?partNumber=1` (all parts but the last are that size
 * for uploads by bentoport, the aws CLI and the SDKs), else part by part.
 */
export async function objectVerifier(
  client: S3Client,
  bucket: string,
  key: string,
  head: HeadObjectCommandOutput,
  size: number,
  signal: AbortSignal | undefined,
): Promise<ObjectVerifier | undefined> {
  const expected = expectationOf(head);
  if (expected === undefined) return undefined;
  const { algorithm } = expected;
  const whole = expected.composite === true ? undefined : runningDigest(algorithm);
  let sizes: number[] | undefined;
  if (expected.composite !== false && expected.partsCount !== undefined) {
    sizes = await partSizes(client, bucket, key, size, expected.partsCount, signal).catch(() => undefined);
  }
  if (whole === undefined && sizes === undefined) return undefined;
  const partDigests: Buffer[] = [];
  let part = sizes === undefined ? undefined : runningDigest(algorithm);
  let partIndex = 0;
  let leftInPart = sizes?.[0] ?? 0;
  return {
    algorithm,
    update(chunk) {
      whole?.update(chunk);
      if (sizes === undefined || part === undefined) return;
      let offset = 0;
      while (offset < chunk.length) {
        const length = Math.min(leftInPart, chunk.length - offset);
        part.update(chunk.subarray(offset, offset + length));
        offset += length;
        leftInPart -= length;
        if (leftInPart === 0 && partIndex < sizes.length) {
          partDigests.push(part.digest());
          partIndex += 1;
          part = runningDigest(algorithm);
          leftInPart = sizes[partIndex] ?? Infinity;
        }
      }
    },
    finish() {
      const candidates: string[] = [];
      if (whole !== undefined) candidates.push(whole.digest().toString('base64'));
      if (sizes !== undefined && partDigests.length === sizes.length) {
        const combined = runningDigest(algorithm);
        for (const digest of partDigests) combined.update(digest);
        candidates.push(combined.digest().toString('base64'));
      }
      if (candidates.includes(expected.value)) return undefined;
      return `${algorithm} checksum mismatch: the object carries ${expected.value}, the bytes read give ${candidates.join(' / ') || 'nothing'}`;
    },
  };
}
