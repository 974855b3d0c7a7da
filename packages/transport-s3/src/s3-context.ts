import type { S3Client } from '@aws-sdk/client-s3';
import type { Location } from '@bentoport/core';
import type { ClientPool } from './s3-client.js';
import { fromS3Error } from './s3-errors.js';
import { parseS3Location, type S3Target } from './s3-location.js';

/** The transport's resolved settings, shared by the reader and the writer. */
export interface S3Settings {
  partSize: number;
  partsInFlight: number;
  rangeSize: number;
  rangesInFlight: number;
  retries: number;
  retryDelayMilliseconds: number;
  partChecksums: boolean;
}

export interface S3Context {
  pool: ClientPool;
  settings: S3Settings;
}

/** Parse the location and get (or lazily create) its client; every failure is coded. */
export async function resolveTarget(
  context: S3Context,
  location: Location,
  operation: string,
  signal: AbortSignal | undefined,
): Promise<{ target: S3Target; client: S3Client }> {
  const target = parseS3Location(location, operation);
  try {
    const { client } = await context.pool.get(target);
    return { target, client };
  } catch (error) {
    throw fromS3Error(error, operation, location, signal);
  }
}
