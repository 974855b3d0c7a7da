import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createBentoport } from '@bentoport/core';
import { tarFormat } from '@bentoport/format-tar';
import { zipFormat } from '@bentoport/format-zip';
import { hashTree, makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { httpTransport } from './http-transport.js';
import { uniqueName } from './test-support/locations.js';
import { startRecordingServer } from './test-support/node-server.js';

const servers = inject('http');

describe.skipIf(servers.skip !== undefined)('bento round trip through nginx WebDAV with createBentoport', () => {
  afterAll(() => removeScratchDirs());

  it.each([
    ['gz', 'http', () => ({ port: servers.davPort, options: {} })],
    ['zip', 'https', () => ({ port: servers.tlsPort, options: { ca: servers.certificate } })],
  ] as const)('exports to a directory URL and imports the written file into another store (%s over %s)', async (format, protocol, server) => {
    const { port, options } = server();
    const scratch = await makeScratchDir('transport-http-round-trip');
    const homeA = path.join(scratch, 'a');
    const homeB = path.join(scratch, 'b');
    await mkdir(homeA);
    await mkdir(homeB);
    const sample = await writeSampleBento(homeA, { models: 2, weightsBytes: 2 * 1024 * 1024 + 3 });
    const plugins = { formats: [tarFormat(), zipFormat()], transports: [httpTransport(options)] };
    const directory = uniqueName(`round-trip-${format}`);
    const [name, version] = sample.bentoTag.split(':') as [string, string];

    const exported = await createBentoport({ home: homeA, ...plugins }).exportBento(
      sample.bentoTag,
      `${protocol}://127.0.0.1:${port}/${directory}/nested/`,
      format,
      { checksumFile: true },
    );
    const fileName = `${name}-${version}.${format}`;
    expect(exported.destination).toBe(`${protocol}://127.0.0.1:${port}/${directory}/nested/${fileName}`);
    const onDisk = await readFile(path.join(servers.davRoot, directory, 'nested', fileName));
    expect(exported.sha256).toBe(createHash('sha256').update(onDisk).digest('hex'));

    const imported = await createBentoport({ home: homeB, ...plugins }).importBento(exported.destination);
    expect(imported.sha256).toBe(exported.sha256);
    expect(imported.modelsImported.sort()).toEqual(sample.models.map((model) => model.tag).sort());
    const expected = await hashTree(sample.bentoPath);
    const actual = await hashTree(imported.item.path);
    if (format === 'zip') {
      // zip stores no symlinks: the link comes back as the file it pointed to.
      expected.delete('src/link_to_service.py');
      actual.delete('src/link_to_service.py');
    }
    expect(actual).toEqual(expected);
    for (const model of sample.models) {
      const [modelName, modelVersion] = model.tag.split(':') as [string, string];
      expect(await hashTree(path.join(homeB, 'models', modelName, modelVersion))).toEqual(await hashTree(model.path));
    }
  });

  it('imports from a presigned-style URL that refuses HEAD and every other key (the .sha256 sidecar)', async () => {
    const scratch = await makeScratchDir('transport-http-presigned');
    const homeA = path.join(scratch, 'a');
    const homeB = path.join(scratch, 'b');
    await mkdir(homeA);
    await mkdir(homeB);
    const sample = await writeSampleBento(homeA, { models: 1 });
    const plugins = { formats: [tarFormat(), zipFormat()], transports: [httpTransport()] };
    const directory = uniqueName('presigned');
    const exported = await createBentoport({ home: homeA, ...plugins }).exportBento(sample.bentoTag, `http://127.0.0.1:${servers.davPort}/${directory}/iris.tar`, 'tar');
    const archive = await readFile(path.join(servers.davRoot, directory, 'iris.tar'));
    const signed = '/bucket/iris.tar?X-Amz-Expires=600&X-Amz-Signature=0f1e2d3c';
    const server = await startRecordingServer((request, response) => {
      if (request.method !== 'GET' || request.url !== signed) {
        response.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>SignatureDoesNotMatch</Code></Error>');
        return;
      }
      const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
      const start = range === null ? 0 : Number(range[1]);
      const end = range === null || range[2] === '' ? archive.length - 1 : Number(range[2]);
      response.writeHead(range === null ? 200 : 206, {
        'content-length': end - start + 1,
        etag: '"s3-etag"',
        'accept-ranges': 'bytes',
        ...(range === null ? {} : { 'content-range': `bytes ${start}-${end}/${archive.length}` }),
      });
      response.end(archive.subarray(start, end + 1));
    });
    try {
      const imported = await createBentoport({ home: homeB, ...plugins }).importBento(`${server.origin}${signed}`);
      expect(imported.sha256).toBe(exported.sha256);
      expect(`${imported.item.tag.name}:${imported.item.tag.version}`).toBe(sample.bentoTag);
      const methods = server.requests.map((request) => `${request.method} ${request.url.split('?')[0]}`);
      expect(methods).toContain('HEAD /bucket/iris.tar.sha256');
      expect(methods.filter((method) => method === 'GET /bucket/iris.tar').length).toBeGreaterThanOrEqual(2);
    } finally {
      await server.close();
    }
  });
});
