import { createHash } from 'node:crypto';
import { ListMultipartUploadsCommand, ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3Target } from './s3-location.js';

/** A part an interrupted run left in its multipart upload. */
export interface ListedPart {
  size: number;
  etag: string;
  checksumSHA256: string | undefined;
}

export interface UnfinishedUpload {
  uploadId: string;
  checksumAlgorithm: string | undefined;
  parts: Map<number, ListedPart>;
}

/** Pages of ListMultipartUploads / ListParts read at most: bounds the loops (1,000 entries a page). */
const MAX_PAGES = 20;

/**
 * The newest unfinished multipart upload to exactly this key, with its parts; undefined when
 * there is none.
 */
export async function findUnfinishedUpload(client: S3Client, target: S3Target, signal: AbortSignal | undefined): Promise<UnfinishedUpload | undefined> {
  const { bucket: Bucket, key: Key } = target;
  let newest: { uploadId: string; initiated: number } | undefined;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const listed = await client.send(
      new ListMultipartUploadsCommand({ Bucket, Prefix: Key, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      { abortSignal: signal },
    );
    for (const upload of listed.Uploads ?? []) {
      if (upload.Key !== Key || upload.UploadId === undefined) continue;
      const initiated = upload.Initiated?.getTime() ?? 0;
      if (newest === undefined || initiated >= newest.initiated) newest = { uploadId: upload.UploadId, initiated };
    }
    if (!listed.IsTruncated) break;
    keyMarker = listed.NextKeyMarker;
    uploadIdMarker = listed.NextUploadIdMarker;
  }
  if (newest === undefined) return undefined;
  const parts = new Map<number, ListedPart>();
  let checksumAlgorithm: string | undefined;
  let partNumberMarker: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const listed = await client.send(new ListPartsCommand({ Bucket, Key, UploadId: newest.uploadId, PartNumberMarker: partNumberMarker }), {
      abortSignal: signal,
    });
    checksumAlgorithm ??= listed.ChecksumAlgorithm;
    for (const part of listed.Parts ?? []) {
      if (part.PartNumber === undefined || part.ETag === undefined || part.Size === undefined) continue;
      parts.set(part.PartNumber, { size: part.Size, etag: part.ETag, checksumSHA256: part.ChecksumSHA256 });
    }
    if (!listed.IsTruncated) break;
    partNumberMarker = listed.NextPartNumberMarker;
  }
  return { uploadId: newest.uploadId, checksumAlgorithm, parts };
}

/**
 * Whether a listed part holds these bytes: same size, and the same SHA-256 where the server lists
 * part checksums, else an ETag equal to the bytes' MD5 (what S3 and most compatible stores give
 * for a part without SSE-KMS/SSE-C). When neither can be compared, the part is sent again.
 */
export function partMatches(part: ListedPart, body: Buffer, checksumSHA256: string | undefined): boolean {
  if (part.size !== body.length) return false;
  if (part.checksumSHA256 !== undefined) {
    return part.checksumSHA256 === (checksumSHA256 ?? createHash('sha256').update(body).digest('base64'));
  }
  const etag = part.etag.replace(/"/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(etag)) return false;
  return etag === createHash('md5').update(body).digest('hex');
}
