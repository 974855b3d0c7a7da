import type { S3Client } from '@aws-sdk/client-s3';
import type { RetryOptions, UploadJournal } from '@bentoport/plugin-kit';
import type { Location } from '@bentoport/spec';
import type { ClientPool } from './s3-client.js';
import { isRetryableS3Error, s3Failure } from './s3-failure.js';
import { parseS3Location, type S3Target } from './s3-location.js';

/** The transport's resolved settings, shared by the reader and the writer. */
export interface S3Settings {
  partSize: number;
  partsInFlight: number;
  rangeSize: number;
  rangesInFlight: number;
  retries: number;
  retryDelayMs: number;
  /** A request's idle timeout; also the most a failed write's clean-up takes in all. */
  timeoutMs: number;
  partChecksums: boolean;
}

/** How one S3 request is retried: the transport's `retries` and backoff, S3's classification of failures. */
export function retryOptions(settings: S3Settings, signal: AbortSignal | undefined): RetryOptions {
  return { retries: settings.retries, retryDelayMs: settings.retryDelayMs, isRetryable: isRetryableS3Error, signal };
}

export interface S3Context {
  pool: ClientPool;
  settings: S3Settings;
  /** Where multipart uploads in flight are written down, so a killed run's can be found. */
  journal: UploadJournal;
}

/** Parse the location and get (or lazily create) its client; every failure is coded. */
export async function resolveTarget(
  context: S3Context,
  location: Location,
  operation: string,
  signal: AbortSignal | undefined,
): Promise<{ target: S3Target; client: S3Client; endpoint: string | undefined }> {
  const target = parseS3Location(location, operation);
  try {
    const { client, description } = await context.pool.get(target);
    return { target, client, endpoint: description.endpoint };
  } catch (error) {
    throw s3Failure(error, operation, location.display, signal);
  }
}
