/**
 * The real servers a README block reaches, and the substitution table that points the block's
 * example hosts and credentials at them. The servers are the ones the owning packages' global
 * setups start (see vitest.config.ts); a block is rewritten only through the table below, so what
 * runs is what the README says with each example address replaced by its test server.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startBentoCloudApiDouble, type BentoCloudApiDouble } from '@bentoport/test-utils/bentocloud-api-double';
import { inject } from 'vitest';
import type { FtpServers } from '../../transport-ftp/src/test-support/global-setup.js';
import type { HttpServers } from '../../transport-http/src/test-support/global-setup.js';
import type { OciServers } from '../../registry-oci/src/test-support/global-setup.js';
import type { SftpServers } from '../../transport-sftp/src/test-support/global-setup.js';
// Declares motoEndpoint and motoMissing of inject().
import type {} from '../../transport-s3/src/test-servers.global-setup.js';
import { REPOSITORY_ROOT } from './markdown-blocks.js';

export type ServerName = 'ftp' | 'sftp' | 'http' | 's3' | 'oci' | 'bentocloud';

/** The servers of this run, as the global setups describe them. */
export interface ReadmeServers {
  ftp: FtpServers;
  sftp: SftpServers;
  http: HttpServers;
  oci: OciServers;
  motoEndpoint: string;
  motoMissing: string;
  /** The BentoCloud API double (on moto), once started. */
  bentoCloud?: BentoCloudApiDouble;
}

export function injectedServers(): ReadmeServers {
  return { ftp: inject('ftp'), sftp: inject('sftp'), http: inject('http'), oci: inject('oci'), motoEndpoint: inject('motoEndpoint'), motoMissing: inject('motoMissing') };
}

/** Why a server cannot be used here (with the `apt-get install` line), or undefined. */
export function serverSkip(servers: ReadmeServers, name: ServerName): string | undefined {
  switch (name) {
    case 'ftp':
    case 'sftp':
    case 'http':
    case 'oci':
      return servers[name].skip;
    case 's3':
    case 'bentocloud':
      return servers.motoEndpoint === '' ? servers.motoMissing || 'moto is not running' : undefined;
  }
}

/** The S3 access key and secret the blocks' environment carries (moto accepts any). */
export const S3_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'readme-test-key', AWS_SECRET_ACCESS_KEY: 'readme-test-secret', AWS_REGION: 'us-east-1' };
/** The buckets the READMEs name. */
const S3_BUCKETS = ['bucket', 'my-bucket'];
/** The BentoCloud token of `.yatai.yaml`. */
export const BENTOCLOUD_TOKEN = 'readme-test-bentocloud-token';

/** Where a block's FTP and SFTP paths (`/srv/bentos/`) land: a directory the login user owns. */
export function loginUserDirectory(servers: { user: string; root: string }): string {
  const directory = `${servers.root}/readme`;
  mkdirSync(directory, { recursive: true });
  const uid = Number(execFileSync('id', ['-u', servers.user]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', servers.user]).toString().trim());
  chownSync(directory, uid, gid);
  return directory;
}

export async function createBuckets(endpoint: string): Promise<void> {
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  for (const bucket of S3_BUCKETS) await client.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => undefined);
  client.destroy();
}

export async function bentoCloudDouble(servers: ReadmeServers): Promise<BentoCloudApiDouble> {
  servers.bentoCloud ??= await startBentoCloudApiDouble({ s3Endpoint: servers.motoEndpoint, bucket: 'readme-bentocloud', token: BENTOCLOUD_TOKEN });
  return servers.bentoCloud;
}

/** `.yatai.yaml` with the contexts the READMEs use (`default`, `staging`), both on the double. */
export function yataiYaml(double: BentoCloudApiDouble): string {
  const context = (name: string) => `- api_token: ${double.token}\n  email: readme@example.com\n  endpoint: ${double.url}\n  name: ${name}\n`;
  return `contexts:\n${context('default')}${context('staging')}current_context_name: default\n`;
}

/** One row of the substitution table. */
export interface Substitution {
  /** The server the row points at (undefined: a local path). */
  server?: ServerName;
  /** What a README writes. */
  pattern: RegExp;
  /** What the block runs instead (none: the text stays, the row only names the server). */
  replacement?: (servers: ReadmeServers) => string;
}

const userinfo = (servers: { user: string; password: string }) => `${encodeURIComponent(servers.user)}:${encodeURIComponent(servers.password)}`;

/**
 * The substitution table, applied in order to every runnable block. Each README example host
 * becomes the test server of its protocol, each example login that server's user, and the paths
 * of another machine a path in the block's scratch directory (`$HOME`).
 */
export const SUBSTITUTIONS: readonly Substitution[] = [
  // Repository paths of blocks run "from the repository root".
  { pattern: /\$PWD\/examples\//g, replacement: () => `${REPOSITORY_ROOT}/examples/` },
  { pattern: /node apps\/cli\/dist\/cli\.js/g, replacement: () => `node ${REPOSITORY_ROOT}/apps/cli/dist/cli.js` },
  // What `pnpm demo` runs once built (the suite runs on a built tree).
  { pattern: /^pnpm demo\b/gm, replacement: () => `node ${REPOSITORY_ROOT}/apps/cli/dist/demo.js` },
  // The other machine: a second store in the scratch directory.
  { pattern: /\| ssh host bentoport /g, replacement: () => '| BENTOML_HOME="$HOME/host-bentoml" bentoport ' },
  { pattern: /(?<=\s)\/srv\/bentoml\b/g, replacement: () => '"$HOME/srv/bentoml"' },
  // S3: MinIO's example endpoints are moto; the credentials are in the environment already.
  { server: 's3', pattern: /http:\/\/(?:minio|127\.0\.0\.1):9000/g, replacement: (servers) => servers.motoEndpoint },
  { server: 's3', pattern: /http%3A%2F%2F127\.0\.0\.1%3A9000/g, replacement: (servers) => encodeURIComponent(servers.motoEndpoint) },
  { server: 's3', pattern: /AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…/g, replacement: () => `AWS_ACCESS_KEY_ID=${S3_CREDENTIALS.AWS_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY=${S3_CREDENTIALS.AWS_SECRET_ACCESS_KEY}` },
  { server: 's3', pattern: /s3:\/\/(?:my-)?bucket\//g },
  // HTTP(S): artifact hosts, presigned S3 URLs and WebDAV are nginx over TLS (the certificate is in NODE_EXTRA_CA_CERTS).
  { server: 'http', pattern: /https:\/\/(?:artifacts\.example\.com|bucket\.s3\.amazonaws\.com)\//g, replacement: (servers) => `https://127.0.0.1:${servers.http.tlsPort}/readme/` },
  { server: 'http', pattern: /https:\/\/user:pass@dav\.example\.com\/bentos\//g, replacement: (servers) => `https://${userinfo(servers.http)}@127.0.0.1:${servers.http.tlsPort}/private/readme/` },
  // FTP: the plain server, or the explicit-TLS one with the login from ~/.netrc.
  { server: 'ftp', pattern: /ftp:\/\/deploy:s3cret@ftp\.example\.com\/srv\/bentos\//g, replacement: (servers) => `ftp://${userinfo(servers.ftp)}@127.0.0.1:${servers.ftp.plainPort}${servers.ftp.root}/readme/` },
  { server: 'ftp', pattern: /ftp:\/\/deploy@ftp\.example\.com\/srv\/bentos\/\?tls=explicit/g, replacement: (servers) => `ftp://${encodeURIComponent(servers.ftp.user)}@127.0.0.1:${servers.ftp.explicitTlsPort}${servers.ftp.root}/readme/?tls=explicit` },
  // SFTP: the key in ~/.ssh and the host in ~/.ssh/known_hosts.
  { server: 'sftp', pattern: /sftp:\/\/deploy@bentos\.example\.com\/srv\/bentos\//g, replacement: (servers) => `sftp://${encodeURIComponent(servers.sftp.user)}@127.0.0.1:${servers.sftp.port}${servers.sftp.root}/readme/` },
  { server: 'sftp', pattern: /sftp:\/\/bentos\/srv\/bentos\//g, replacement: (servers) => `sftp://bentos${servers.sftp.root}/readme/` },
  { server: 'sftp', pattern: /sftp:\/\/deploy@bentos\.example\.com:2222\//g, replacement: (servers) => `sftp://${encodeURIComponent(servers.sftp.user)}@127.0.0.1:${servers.sftp.port}/` },
  // OCI: the registry without authentication (loopback is plain HTTP, as Docker does).
  { server: 'oci', pattern: /oci:\/\/(?:registry\.example\.com|ghcr\.io)\//g, replacement: (servers) => `oci://127.0.0.1:${servers.oci.openPort}/` },
  // BentoCloud: the API double, through `$BENTOML_HOME/.yatai.yaml`.
  { server: 'bentocloud', pattern: /bentoCloudRegistry\(|\.yatai\.yaml|--context staging/g },
];

/** The block as it runs, and the servers it needs. */
export function substitute(code: string, servers: ReadmeServers): { code: string; needs: Set<ServerName> } {
  const needs = new Set<ServerName>();
  let result = code;
  for (const row of SUBSTITUTIONS) {
    row.pattern.lastIndex = 0;
    if (!row.pattern.test(result)) continue;
    if (row.server !== undefined) needs.add(row.server);
    const skip = row.server === undefined ? undefined : serverSkip(servers, row.server);
    const replacement = row.replacement;
    if (replacement !== undefined && skip === undefined) result = result.replace(row.pattern, () => replacement(servers));
  }
  return { code: result, needs };
}
