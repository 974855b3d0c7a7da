/**
 * Test utility: clients, buckets and locations on the moto server of the global setup. Not part
 * of the package's API.
 */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import type { Location } from '@bentoport/spec';

/** moto accepts any credentials. */
export const TEST_CREDENTIALS = { accessKeyId: 'bentoport-test', secretAccessKey: 'bentoport-secret' };

/** A plain SDK client for checking what the server holds, independent of the transport. */
export function inspectionClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A fresh bucket with a random valid name. */
export async function freshBucket(client: S3Client, prefix = 'bentoport'): Promise<string> {
  const bucket = `${prefix}-${randomBytes(6).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

export function s3Location(bucket: string, key: string, query = ''): Location {
  const path = key === '' ? '' : `/${key}`;
  return { protocol: 's3', host: bucket, path, query, display: `s3://${bucket}${path}${query ? `?${query}` : ''}` };
}

/** Unfinished multipart uploads in the bucket (optionally for one key). */
export async function unfinishedUploads(client: S3Client, bucket: string, key?: string): Promise<string[]> {
  const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, ...(key ? { Prefix: key } : {}) }));
  return (listed.Uploads ?? []).filter((upload) => key === undefined || upload.Key === key).map((upload) => upload.UploadId ?? '');
}
