import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { Transport } from '@bentoport/core';
import { makeScratchDir, removeScratchDirs, startRefusingProxy, transferOperations, writeSampleBento } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshBucket, inspectionClient, s3Location, TEST_CREDENTIALS } from './moto-fixtures.js';
import { s3Transport } from './s3-transport.js';

const run = promisify(execFile);
const endpoint = inject('motoEndpoint');
const proxyUrl = inject('tinyproxyUrl');
const proxyLog = inject('tinyproxyLog');
const tlsEndpoint = inject('motoTlsEndpoint');
const tlsCertificate = inject('motoTlsCertificate');
const cliPath = fileURLToPath(new URL('../../../apps/cli/dist/cli.js', import.meta.url));

if (proxyUrl === '') console.warn(`transport-s3 proxy tests skipped: ${inject('tinyproxyMissing')}`);

/** What tinyproxy logged since `offset`. */
async function logSince(offset: number): Promise<string> {
  const text = await readFile(proxyLog, 'latin1').catch(() => '');
  return text.slice(offset);
}

async function logLength(): Promise<number> {
  return (await readFile(proxyLog, 'latin1').catch(() => '')).length;
}

async function roundTrip(transport: Transport, bucket: string, key: string): Promise<string> {
  const location = s3Location(bucket, key);
  const writer = await transport.write(location);
  await pipeline(Readable.from([Buffer.from(`through ${key}`)]), writer.stream);
  await writer.commit();
  const chunks: Buffer[] = [];
  for await (const chunk of await transport.read(location)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe.skipIf(endpoint === '' || proxyUrl === '')('HTTP_PROXY / HTTPS_PROXY / NO_PROXY through a real tinyproxy', () => {
  let bucket = '';
  const motoPort = endpoint === '' ? '' : new URL(endpoint).port;

  beforeAll(async () => {
    bucket = await freshBucket(inspectionClient(endpoint), 'proxied');
  });
  afterAll(removeScratchDirs);

  it('sends every request through the proxy named by HTTP_PROXY when NO_PROXY does not match', async () => {
    const before = await logLength();
    // Loopback is often bypassed by default; an empty NO_PROXY means "proxy everything".
    const transport = s3Transport({ endpoint, credentials: TEST_CREDENTIALS, region: 'us-east-1', env: { HTTP_PROXY: proxyUrl, NO_PROXY: '' } });
    expect(await roundTrip(transport, bucket, 'proxied.txt')).toBe('through proxied.txt');
    const logged = await logSince(before);
    expect(logged).toContain(`http://127.0.0.1:${motoPort}/${bucket}/proxied.txt`);
    expect(logged).toMatch(/Established connection to host "127\.0\.0\.1"/);
  });

  it('goes direct when NO_PROXY matches the endpoint', async () => {
    const before = await logLength();
    const transport = s3Transport({ endpoint, credentials: TEST_CREDENTIALS, region: 'us-east-1', env: { HTTP_PROXY: proxyUrl, NO_PROXY: `localhost,127.0.0.1` } });
    expect(await roundTrip(transport, bucket, 'direct.txt')).toBe('through direct.txt');
    expect(await logSince(before)).not.toContain(`127.0.0.1:${motoPort}`);
  });

  it.skipIf(tlsEndpoint === '' || !existsSync(cliPath))(
    'the CLI reaches an HTTPS endpoint through HTTPS_PROXY (CONNECT), trusting NODE_EXTRA_CA_CERTS',
    async () => {
      const tlsPort = new URL(tlsEndpoint).port;
      const tlsClient = new S3Client({
        endpoint: tlsEndpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: TEST_CREDENTIALS,
        requestHandler: { httpsAgent: { ca: await readFile(tlsCertificate) } },
      });
      await tlsClient.send(new CreateBucketCommand({ Bucket: 'tls-bucket' }));
      const home = await makeScratchDir('s3-tls');
      const sample = await writeSampleBento(home, { sourceFiles: 5 });
      const before = await logLength();
      const environment: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: home,
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_S3: tlsEndpoint,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        HTTPS_PROXY: proxyUrl,
        NO_PROXY: '',
        NODE_EXTRA_CA_CERTS: tlsCertificate,
      };
      const exported = await run(process.execPath, [cliPath, '--home', home, 'export', sample.bentoTag, 's3://tls-bucket/', '--format', 'gz', '--json'], {
        env: environment,
      });
      expect(JSON.parse(exported.stdout)).toMatchObject({ destination: expect.stringMatching(/^s3:\/\/tls-bucket\/.+\.gz$/) });
      expect(await logSince(before)).toContain(`CONNECT localhost:${tlsPort}`);
    },
  );
});

describe('through a proxy that refuses everything (403 to CONNECT and to every request)', () => {
  it('fails stat, read, write and a multipart write with one line naming the proxy, not an XML parse error', async () => {
    const proxy = await startRefusingProxy();
    try {
      // Nothing listens at the endpoints: the proxy answers for them (absolute-form for http, CONNECT for https).
      for (const endpoint of ['http://127.0.0.1:9', 'https://127.0.0.1:9']) {
        const transport = s3Transport({ endpoint, credentials: TEST_CREDENTIALS, region: 'us-east-1', retries: 0, env: { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: '' } });
        const operations = transferOperations(() => transport, () => s3Location('blocked', 'key.bento'));
        const multipart = async () => {
          const writer = await transport.write(s3Location('blocked', 'large.bento'));
          writer.stream.on('error', () => {});
          writer.stream.end(Buffer.alloc(12 * 1024 * 1024));
          await writer.commit();
        };
        for (const [name, operation] of [...Object.entries(operations), ['multipart write', multipart] as const]) {
          const error = await operation().then(
            () => new Error(`${name} succeeded`),
            (caught: unknown) => caught as Error,
          );
          expect(error.message, `${name} via ${endpoint}`).toMatch(
            new RegExp(`^\\[transport-s3\\] [A-Z]+ s3://blocked/\\S+: the proxy ${proxy.url.replaceAll('.', '\\.')} refused the request with 403 Forbidden; check HTTPS_PROXY/HTTP_PROXY/NO_PROXY$`),
          );
        }
      }
    } finally {
      await proxy.close();
    }
  });
});
