import type { Readable } from 'node:stream';
import { readBodyText, recodeErrors, type HttpConnections, type HttpResponse } from '@bentoport/plugin-kit';
import type { CloudContext } from './cloud-context.js';
import { httpStatusError, networkError } from './cloud-errors.js';

export type ItemKind = 'bento' | 'model';

/** The fields of BentoCloud's BentoSchema/ModelSchema this client reads. */
export interface CloudItem {
  version: string;
  upload_status: 'pending' | 'uploading' | 'success' | 'failed' | string;
  upload_finished_reason?: string | null;
  presigned_upload_url?: string | null;
  presigned_download_url?: string | null;
  transmission_strategy?: 'proxy' | 'presigned_url' | null;
  upload_id?: string | null;
  manifest?: Record<string, unknown> | null;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/** The `/api/v1` calls BentoML's `push`/`pull` make, with BentoML's headers. */
export class CloudApi {
  constructor(
    private readonly context: CloudContext,
    private readonly connections: HttpConnections,
    private readonly bentomlVersion: string,
  ) {}

  /** `/bento_repositories/{name}` or `/model_repositories/{name}`. */
  static repositoryPath(kind: ItemKind, name: string): string {
    return `/${kind}_repositories/${encodeURIComponent(name)}`;
  }

  /** `/bento_repositories/{name}/bentos/{version}` (models alike). */
  static itemPath(kind: ItemKind, name: string, version: string): string {
    return `${CloudApi.repositoryPath(kind, name)}/${kind}s/${encodeURIComponent(version)}`;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { 'X-YATAI-API-TOKEN': this.context.apiToken, 'X-Bentoml-Version': this.bentomlVersion, ...extra };
  }

  private url(path: string): URL {
    return new URL(`${this.context.endpoint}/api/v1${path}`);
  }

  /** A JSON call; undefined for "not found" (404, or 400 saying `record not found`, as BentoML reads it) when `optional`. */
  async call<T>(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown, options: CallOptions & { optional?: boolean } = {}): Promise<T | undefined> {
    const url = this.url(path);
    const operation = `${method} /api/v1${path}`;
    let response: HttpResponse;
    let text: string;
    try {
      response = await this.connections.request(url, {
        method,
        headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
        body: body === undefined ? null : JSON.stringify(body),
        signal: options.signal,
      });
      text = await readBodyText(response.body);
    } catch (error) {
      throw networkError(operation, `at ${this.context.endpoint}`, error, this.context.apiToken, options.signal);
    }
    const status = response.status;
    if (options.optional && (status === 404 || (status === 400 && text.includes('record not found')))) return undefined;
    if (status !== 200) throw httpStatusError(operation, `at ${this.context.endpoint}`, status, text, traceId(response.headers), this.context.apiToken);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw httpStatusError(operation, `at ${this.context.endpoint}`, status, `response is not JSON: ${text}`, undefined, this.context.apiToken);
    }
  }

  /** Proxy upload: `PUT …/upload` with the raw tar, its exact length announced. */
  async proxyUpload(kind: ItemKind, name: string, version: string, body: Readable, length: number, options: CallOptions = {}): Promise<void> {
    const path = `${CloudApi.itemPath(kind, name, version)}/upload`;
    const url = this.url(path);
    const operation = `PUT /api/v1${path}`;
    let response: HttpResponse;
    try {
      response = await this.connections.request(url, {
        method: 'PUT',
        headers: this.headers({ 'content-type': 'application/octet-stream', 'content-length': String(length) }),
        body,
        signal: options.signal,
      });
    } catch (error) {
      body.destroy();
      throw networkError(operation, `at ${this.context.endpoint}`, error, this.context.apiToken, options.signal);
    }
    const text = await readBodyText(response.body).catch(() => '');
    if (response.status !== 200) {
      throw httpStatusError(operation, `at ${this.context.endpoint}`, response.status, text, traceId(response.headers), this.context.apiToken);
    }
  }

  /** Proxy download: `GET …/download`, streamed. */
  async proxyDownload(kind: ItemKind, name: string, version: string, options: CallOptions = {}): Promise<DownloadResponse> {
    const path = `${CloudApi.itemPath(kind, name, version)}/download`;
    return this.download(this.url(path), `GET /api/v1${path}`, this.headers(), options);
  }

  /** GET a presigned URL without the API headers (they are not S3's business). */
  async presignedDownload(presignedUrl: string, what: string, options: CallOptions = {}): Promise<DownloadResponse> {
    return this.download(new URL(presignedUrl), `GET presigned URL of ${what}`, {}, options);
  }

  private async download(url: URL, operation: string, headers: Record<string, string>, options: CallOptions): Promise<DownloadResponse> {
    const where = url.pathname.startsWith('/api/') ? `at ${this.context.endpoint}` : `(${url.host})`;
    let response: HttpResponse;
    try {
      response = await this.connections.request(url, { method: 'GET', headers, signal: options.signal });
    } catch (error) {
      throw networkError(operation, where, error, this.context.apiToken, options.signal);
    }
    if (response.status !== 200) {
      const text = await readBodyText(response.body).catch(() => '');
      throw httpStatusError(operation, where, response.status, text, traceId(response.headers), this.context.apiToken);
    }
    const length = Number(response.headers['content-length']);
    // A connection that drops mid-download fails the pull with this plugin's one-line error.
    const body = recodeErrors(response.body, (error) => networkError(operation, where, error, this.context.apiToken, options.signal));
    return { body, ...(Number.isSafeInteger(length) ? { length } : {}) };
  }

  /**
   * PUT bytes to a presigned URL (single object or one multipart part) with an exact
   * Content-Length and without the API headers.
   * @returns the `ETag` header, verbatim (quotes included, as S3 wants it back).
   */
  async presignedPut(presignedUrl: string, body: Readable | Buffer, length: number, what: string, options: CallOptions = {}): Promise<string> {
    const url = new URL(presignedUrl);
    const operation = `PUT presigned URL of ${what}`;
    let response: HttpResponse;
    try {
      response = await this.connections.request(url, {
        method: 'PUT',
        // An explicit type: some S3 servers store an untyped body as a form, or drop it.
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(length) },
        body,
        signal: options.signal,
      });
    } catch (error) {
      if (!Buffer.isBuffer(body)) body.destroy();
      throw networkError(operation, `(${url.host})`, error, this.context.apiToken, options.signal);
    }
    const text = await readBodyText(response.body).catch(() => '');
    if (response.status !== 200) {
      throw httpStatusError(operation, `(${url.host})`, response.status, s3Message(text), traceId(response.headers), this.context.apiToken);
    }
    const etag = response.headers.etag;
    return typeof etag === 'string' ? etag : '';
  }
}

export interface DownloadResponse {
  body: Readable;
  length?: number;
}

function traceId(headers: Record<string, string | string[] | undefined>): string | undefined {
  const value = headers['x-trace-id'];
  return Array.isArray(value) ? value[0] : value;
}

/** S3's XML error as `Code: Message`. */
function s3Message(text: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  return code ? `${code}${message ? `: ${message}` : ''}` : text;
}
