import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { Transport } from '@bentoport/spec';
import { hashTree } from '@bentoport/test-utils';
import { ftpTransport } from '@bentoport/transport-ftp';
import { httpTransport } from '@bentoport/transport-http';
import { s3Transport } from '@bentoport/transport-s3';
import { sftpTransport } from '@bentoport/transport-sftp';
import { describe, expect, inject, it } from 'vitest';
import type {} from '../../transport-s3/src/test-servers.global-setup.js';
import type {} from '../../transport-ftp/src/test-support/global-setup.js';
import type {} from '../../transport-sftp/src/test-support/global-setup.js';
import type {} from '../../transport-http/src/test-support/global-setup.js';
import { bentoportAt, countingTransport, naiveExportBytes, scratch, writeReleaseStore } from './sync-store.js';

/** A remote store on one server: its URL for a fresh directory, and the transport to reach it. */
interface Site {
  name: string;
  skip?: string;
  transport(): Transport;
  url(directory: string): Promise<string>;
}

const userinfo = (servers: { user: string; password: string }) => `${encodeURIComponent(servers.user)}:${encodeURIComponent(servers.password)}`;

/** A directory under the server's root that its login user owns. */
function ownedDirectory(servers: { user: string; root: string }, name: string): string {
  const directory = path.join(servers.root, 'sync-tests', name);
  mkdirSync(directory, { recursive: true });
  const uid = Number(execFileSync('id', ['-u', servers.user]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', servers.user]).toString().trim());
  chownSync(path.dirname(directory), uid, gid);
  chownSync(directory, uid, gid);
  return directory;
}

function sites(): Site[] {
  const motoEndpoint = inject('motoEndpoint');
  const ftp = inject('ftp');
  const sftp = inject('sftp');
  const http = inject('http');
  const credentials = { accessKeyId: 'sync-test', secretAccessKey: 'sync-test' };
  return [
    {
      name: 's3 (moto)',
      ...(motoEndpoint === '' ? { skip: inject('motoMissing') || 'moto is not running' } : {}),
      transport: () => s3Transport({ endpoint: motoEndpoint, credentials, region: 'us-east-1', proxy: false }),
      async url(directory) {
        const bucket = `sync-${randomBytes(5).toString('hex')}`;
        const client = new S3Client({ endpoint: motoEndpoint, region: 'us-east-1', forcePathStyle: true, credentials });
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
        client.destroy();
        return `s3://${bucket}/${directory}/`;
      },
    },
    {
      name: 'sftp',
      ...(sftp.skip === undefined ? {} : { skip: sftp.skip }),
      transport: () => sftpTransport({ knownHosts: sftp.knownHosts, agent: false, privateKeyPath: [] }),
      url: async (directory) => `sftp://${userinfo(sftp)}@127.0.0.1:${sftp.port}${ownedDirectory(sftp, directory)}/`,
    },
    {
      name: 'ftp',
      ...(ftp.skip === undefined ? {} : { skip: ftp.skip }),
      transport: () => ftpTransport({ ca: ftp.certificate }),
      url: async (directory) => `ftp://${userinfo(ftp)}@127.0.0.1:${ftp.plainPort}${ownedDirectory(ftp, directory)}/`,
    },
    {
      name: 'webdav',
      ...(http.skip === undefined ? {} : { skip: http.skip }),
      transport: () => httpTransport(),
      async url(directory) {
        mkdirSync(path.join(http.davRoot, 'private', 'sync-tests', directory), { recursive: true });
        return `http://${userinfo(http)}@127.0.0.1:${http.davPort}/private/sync-tests/${directory}/`;
      },
    },
  ];
}

describe.each(sites())('a remote store on $name', (site) => {
  it.skipIf(site.skip !== undefined)('gets each model once, nothing the second time, resumes an aborted sync, lists cheaply, and syncs back equal', async () => {
    const { root, homeA, homeB } = await scratch('sync-servers-');
    const tags = await writeReleaseStore(homeA);
    const counter = countingTransport(site.transport());
    const source = bentoportAt(homeA, { transports: [counter] });
    const remote = await site.url(`release-${randomBytes(4).toString('hex')}`);

    // Abort part way, then rerun: nothing that arrived verified is sent again.
    const controller = new AbortController();
    let abortedAfter = 0;
    const aborted = source.sync('local', remote, {
      signal: controller.signal,
      onProgress: (event) => {
        if (event.type === 'bytes' && (event.itemsDone ?? 0) >= 4 && abortedAfter === 0) {
          abortedAfter = event.itemsDone ?? 0;
          controller.abort();
        }
      },
    });
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    counter.reset();
    const rerun = await source.sync('local', remote);
    const sentModels = rerun.sent.filter((item) => item.kind === 'model').length;
    expect(rerun.present.length).toBeGreaterThanOrEqual(abortedAfter);
    expect(rerun.sent.length + rerun.present.length).toBe(13);
    const firstBytes = counter.bytesWritten;

    const naive = await naiveExportBytes(bentoportAt(homeA), tags, root);
    const storeBytes = (await source.listRemoteBentos(remote)).reduce((sum, item) => sum + (item.size ?? 0), 0) + (await source.listRemoteModels(remote)).reduce((sum, item) => sum + (item.size ?? 0), 0);
    console.log(
      `${site.name}: aborted after ${abortedAfter} items, the rerun sent ${rerun.sent.length} (${sentModels} models, ${firstBytes} bytes); the store holds ${storeBytes} archive bytes vs ${naive} for a per-bento export`,
    );
    expect(storeBytes).toBeLessThan(naive / 2);
    expect(await source.listRemoteModels(remote)).toHaveLength(3);

    counter.reset();
    const second = await source.sync('local', remote);
    expect(second.sent).toEqual([]);
    expect(counter.bytesWritten).toBe(0);

    counter.reset();
    expect(await source.listRemoteBentos(remote)).toHaveLength(10);
    console.log(`${site.name}: list read ${counter.bytesRead} of ${storeBytes} bytes (${((100 * counter.bytesRead) / storeBytes).toFixed(3)}%)`);
    expect(counter.bytesRead).toBeLessThan(storeBytes / 100);

    const target = bentoportAt(homeB, { transports: [site.transport()] });
    const back = await target.sync(remote, 'local');
    expect(back.sent).toHaveLength(13);
    for (const kind of ['bentos', 'models']) expect(await hashTree(path.join(homeB, kind))).toEqual(await hashTree(path.join(homeA, kind)));
  });

  it.skipIf(site.skip !== undefined)('two syncs into the store at once leave a valid index, and the next sync completes it', async () => {
    const { homeA } = await scratch('sync-servers-concurrent-');
    await writeReleaseStore(homeA);
    const remote = await site.url(`concurrent-${randomBytes(4).toString('hex')}`);
    const one = bentoportAt(homeA, { transports: [site.transport()] });
    const two = bentoportAt(homeA, { transports: [site.transport()] });
    await Promise.all([one.sync('local', remote, { filter: ['svc0', 'svc1', 'svc2'] }), two.sync('local', remote, { filter: ['svc3', 'svc4'] })]);
    // Whatever the interleaving, the index is whole and names only items that arrived.
    const listed = await one.listRemoteBentos(remote);
    expect(listed.length).toBeGreaterThan(0);
    console.log(`${site.name}: after two syncs at once the index names ${listed.length} of 10 bentos`);
    for (const item of listed) expect(item.sha256).toMatch(/^[0-9a-f]{64}$/);
    const healed = await one.sync('local', remote);
    expect(healed.sent).toEqual([]);
    expect(await one.listRemoteBentos(remote)).toHaveLength(10);
    expect(await one.listRemoteModels(remote)).toHaveLength(3);
  });
});
