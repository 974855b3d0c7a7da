import type { Readable } from 'node:stream';
import { discardBody, readBodyText, recodeErrors, type HttpResponse } from '@bentoport/plugin-kit';

/**
 * A registry's answer: the parts of a fetch `Response` this plugin reads, over Node's own
 * response stream (a blob streams straight into the tar decoder, no WHATWG stream in between).
 */
export interface RegistryResponse {
  status: number;
  statusText: string;
  /** 2xx. */
  ok: boolean;
  headers: { get(name: string): string | null };
  /** The body; its failure arrives as the plugin's coded error. Read it once, by one of the methods below or as a stream. */
  body: Readable;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
  /** Let go of an unwanted body so its connection is reused. Never rejects. */
  discard(): Promise<void>;
  /** The proxy (`http://proxy:3128`) that passed on this answer, which may be its own; undefined when direct or tunnelled. */
  proxy?: string;
}

function headerGetter(headers: HttpResponse['headers']): RegistryResponse['headers'] {
  return {
    get(name) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/** Wrap one answer; `toError` turns a failure of its body (a dropped connection, a stall) into a coded error. */
export function registryResponse(response: HttpResponse, toError: (error: unknown) => Error): RegistryResponse {
  const body = recodeErrors(response.body, toError);
  const text = () => readBodyText(body);
  return {
    status: response.status,
    statusText: response.statusText,
    ok: response.status >= 200 && response.status < 300,
    headers: headerGetter(response.headers),
    body,
    text,
    json: async () => JSON.parse(await text()) as unknown,
    async arrayBuffer() {
      const chunks: Buffer[] = [];
      for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
      const bytes = Buffer.concat(chunks);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
    discard: () => discardBody(body),
    ...(response.proxy === undefined ? {} : { proxy: response.proxy }),
  };
}
