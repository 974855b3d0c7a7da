/**
 * Where the harness sends and fetches archives: one site per transport (fs, ftp, sftp, http,
 * s3) and per registry (oci, bentocloud), each on its real server, reached through a fault proxy
 * so that the network can be broken, and each able to look at its server's side directly (the
 * destination object, temporary names, unfinished uploads) without going through bentoport.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { startFaultProxy, type FaultProxy } from '@bentoport/test-utils';
import { startBentoCloudApiDouble, type BentoCloudApiDouble, type BentoCloudTransmission } from '@bentoport/test-utils/bentocloud-api-double';
import type { FtpServers } from '../../transport-ftp/src/test-support/global-setup.js';
import type { HttpServers } from '../../transport-http/src/test-support/global-setup.js';
import type { OciServers } from '../../registry-oci/src/test-support/global-setup.js';
import type { SftpServers } from '../../transport-sftp/src/test-support/global-setup.js';
// Declares motoEndpoint, motoMissing and the tinyproxy details of inject().
import type {} from '../../transport-s3/src/test-servers.global-setup.js';

export type TransportName = 'fs' | 'ftp' | 'sftp' | 'http' | 's3';
export type RegistryName = 'oci' | 'bentocloud';
export type SiteName = TransportName | RegistryName;

/**
 * `.<name>.bentoport-<hex>.tmp` (or `-<owner>-<random>.tmp`, as stale-leftover sweeping names
 * them): the temporary sibling a two-phase write uses.
 */
export const REMOTE_TEMPORARY_NAME = /^\..+\.bentoport-[^/]+\.tmp$/;

/** One directory of a transport for one case. */
export interface RemoteDirectory {
  /** What the CLI is given for `file` in this directory (through the fault proxy). */
  url(file: string): string;
  /** Put an archive there, directly on the server (not through bentoport or the proxy). */
  place(file: string, localPath: string): Promise<void>;
  /** The bytes of `file` as the server holds them, or undefined when there is none. */
  read(file: string): Promise<Buffer | undefined>;
  /** Temporary names and unfinished uploads left in this directory. */
  leftovers(): Promise<string[]>;
  /** The directory on the local disk, for sites whose server files are local (not s3). */
  localPath?: string;
}

export interface TransportSite {
  name: TransportName;
  /** Why this site cannot run, with the `apt-get install` that enables it. */
  skip?: string;
  /** Passwords and keys the CLI is given: none may appear in its output. */
  secrets: string[];
  /** The network path the CLI takes (none for fs). */
  proxy?: FaultProxy;
  /** Whether the client goes through HTTP(S)_PROXY (so a refusing proxy must stop it). */
  honoursProxyEnvironment: boolean;
  directory(name: string): Promise<RemoteDirectory>;
}

/** One repository of a registry for one case. */
export interface RemoteRepository {
  /** `--registry …` and friends. */
  args: string[];
  /** Prepare a store home to talk to this registry (BentoCloud's `.yatai.yaml`). */
  prepareHome(home: string): Promise<void>;
  /** Unfinished uploads (OCI upload sessions, S3 multipart uploads) left behind. */
  leftovers(): Promise<string[]>;
}

export interface RegistrySite {
  name: RegistryName;
  skip?: string;
  secrets: string[];
  proxy?: FaultProxy;
  honoursProxyEnvironment: boolean;
  repository(name: string): Promise<RemoteRepository>;
}

export interface SiteInputs {
  ftp: FtpServers;
  sftp: SftpServers;
  http: HttpServers;
  oci: OciServers;
  motoEndpoint: string;
  motoMissing: string;
  /** The harness's scratch root (fs destinations, the user's home). */
  scratch: string;
  /** $HOME of every child: `.ssh/known_hosts` for sftp lives there. */
  userHome: string;
}

/** The secret access key the CLI is given for S3 (moto accepts any). */
export const S3_SECRET = 'fault-harness-S3-s3cr3t/key+';
export const S3_ACCESS_KEY = 'AKIAFAULTHARNESS';
const S3_BUCKET = 'fault-harness';

async function listLocalLeftovers(directory: string): Promise<string[]> {
  const names = await readdir(directory).catch(() => [] as string[]);
  return names.filter((name) => REMOTE_TEMPORARY_NAME.test(name)).map((name) => path.join(directory, name));
}

async function readLocal(file: string): Promise<Buffer | undefined> {
  return readFile(file).catch(() => undefined);
}

function ownedBy(user: string, directory: string): void {
  const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
  chownSync(directory, uid, gid);
}

function fsSite(inputs: SiteInputs): TransportSite {
  return {
    name: 'fs',
    secrets: [],
    honoursProxyEnvironment: false,
    async directory(name) {
      const directory = path.join(inputs.scratch, 'fs-destinations', name);
      await mkdir(directory, { recursive: true });
      return {
        localPath: directory,
        url: (file) => path.join(directory, file),
        place: (file, localPath) => copyFile(localPath, path.join(directory, file)),
        read: (file) => readLocal(path.join(directory, file)),
        leftovers: () => listLocalLeftovers(directory),
      };
    },
  };
}

/** A site whose server keeps its files in a local directory owned by its login user (ftp, sftp). */
async function loginUserSite(
  name: 'ftp' | 'sftp',
  servers: { skip?: string; user: string; password: string; root: string },
  port: number,
): Promise<TransportSite> {
  if (servers.skip !== undefined) return { name, skip: servers.skip, secrets: [], honoursProxyEnvironment: false, directory: () => Promise.reject(new Error(servers.skip)) };
  const proxy = await startFaultProxy({ targetPort: port });
  const userinfo = `${encodeURIComponent(servers.user)}:${encodeURIComponent(servers.password)}`;
  return {
    name,
    proxy,
    secrets: [servers.password],
    honoursProxyEnvironment: false,
    async directory(directoryName) {
      const directory = path.join(servers.root, 'fault-harness', directoryName);
      mkdirSync(path.dirname(directory), { recursive: true });
      ownedBy(servers.user, path.dirname(directory));
      mkdirSync(directory, { recursive: true });
      ownedBy(servers.user, directory);
      return {
        localPath: directory,
        url: (file) => `${name}://${userinfo}@127.0.0.1:${proxy.port}${directory}/${file}`,
        async place(file, localPath) {
          await copyFile(localPath, path.join(directory, file));
          ownedBy(servers.user, path.join(directory, file));
        },
        read: (file) => readLocal(path.join(directory, file)),
        leftovers: () => listLocalLeftovers(directory),
      };
    },
  };
}

async function httpSite(servers: HttpServers): Promise<TransportSite> {
  if (servers.skip !== undefined) return { name: 'http', skip: servers.skip, secrets: [], honoursProxyEnvironment: true, directory: () => Promise.reject(new Error(servers.skip)) };
  const proxy = await startFaultProxy({ targetPort: servers.davPort });
  const userinfo = `${encodeURIComponent(servers.user)}:${encodeURIComponent(servers.password)}`;
  return {
    name: 'http',
    proxy,
    secrets: [servers.password],
    honoursProxyEnvironment: true,
    async directory(directoryName) {
      // /private/ needs Basic auth: the password travels in the URL, as a user would give it.
      const directory = path.join(servers.davRoot, 'private', 'fault-harness', directoryName);
      await mkdir(directory, { recursive: true });
      return {
        localPath: directory,
        url: (file) => `http://${userinfo}@127.0.0.1:${proxy.port}/private/fault-harness/${directoryName}/${file}`,
        place: (file, localPath) => copyFile(localPath, path.join(directory, file)),
        read: (file) => readLocal(path.join(directory, file)),
        leftovers: () => listLocalLeftovers(directory),
      };
    },
  };
}

let s3Client: S3Client | undefined;
/** A client straight to moto (never through the proxy): the harness's own view of the bucket. */
function directS3(endpoint: string): S3Client {
  s3Client ??= new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  return s3Client;
}

async function unfinishedUploads(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return (listed.Uploads ?? []).map((upload) => `s3://${bucket}/${upload.Key} (unfinished multipart upload ${upload.UploadId})`);
}

async function s3Site(inputs: SiteInputs): Promise<TransportSite> {
  if (inputs.motoEndpoint === '') return { name: 's3', skip: inputs.motoMissing, secrets: [], honoursProxyEnvironment: true, directory: () => Promise.reject(new Error(inputs.motoMissing)) };
  const client = directS3(inputs.motoEndpoint);
  await client.send(new CreateBucketCommand({ Bucket: S3_BUCKET })).catch(() => undefined);
  const proxy = await startFaultProxy({ targetPort: Number(new URL(inputs.motoEndpoint).port) });
  return {
    name: 's3',
    proxy,
    secrets: [S3_SECRET],
    honoursProxyEnvironment: true,
    async directory(directoryName) {
      const prefix = `fault-harness/${directoryName}/`;
      return {
        url: (file) => `s3://${S3_BUCKET}/${prefix}${file}`,
        async place(file, localPath) {
          await client.send(new PutObjectCommand({ Bucket: S3_BUCKET, Key: `${prefix}${file}`, Body: await readFile(localPath), ContentType: 'application/octet-stream' }));
        },
        async read(file) {
          try {
            const object = await client.send(new GetObjectCommand({ Bucket: S3_BUCKET, Key: `${prefix}${file}` }));
            return Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
          } catch {
            return undefined;
          }
        },
        async leftovers() {
          const objects = await client.send(new ListObjectsV2Command({ Bucket: S3_BUCKET, Prefix: prefix }));
          const temporary = (objects.Contents ?? [])
            .map((object) => object.Key ?? '')
            .filter((key) => REMOTE_TEMPORARY_NAME.test(path.posix.basename(key)))
            .map((key) => `s3://${S3_BUCKET}/${key}`);
          return [...temporary, ...(await unfinishedUploads(client, S3_BUCKET, prefix))];
        },
      };
    },
  };
}

async function ociSite(servers: OciServers): Promise<RegistrySite> {
  if (servers.skip !== undefined) return { name: 'oci', skip: servers.skip, secrets: [], honoursProxyEnvironment: true, repository: () => Promise.reject(new Error(servers.skip)) };
  const proxy = await startFaultProxy({ targetPort: servers.basicPort });
  // The global setup names each registry's storage `<scratch>/<name>/data`.
  const basicData = path.join(path.dirname(path.dirname(servers.openData)), 'basic', 'data');
  const userinfo = `${encodeURIComponent(servers.user)}:${encodeURIComponent(servers.password)}`;
  return {
    name: 'oci',
    proxy,
    secrets: [servers.password],
    honoursProxyEnvironment: true,
    async repository(name) {
      const repository = `fault-harness/${name}`;
      return {
        args: ['--registry', `oci://${userinfo}@127.0.0.1:${proxy.port}/${repository}`],
        prepareHome: async () => {},
        async leftovers() {
          // Bentos and models go to repositories under this one (`<repository>/<name>`,
          // `<repository>/models/<name>`), each with its own `_uploads/<session>`.
          const root = path.join(basicData, 'docker', 'registry', 'v2', 'repositories', repository);
          const entries = (await readdir(root, { recursive: true }).catch(() => [] as string[])).map(String);
          return entries.filter((entry) => /(^|\/)_uploads\/[^/]+$/.test(entry)).map((entry) => `oci upload session ${repository}/${entry}`);
        },
      };
    },
  };
}

const BENTOCLOUD_TRANSMISSIONS: BentoCloudTransmission[] = ['proxy', 'multipart', 'presigned-single'];

async function bentoCloudSite(inputs: SiteInputs): Promise<RegistrySite & { api?: BentoCloudApiDouble }> {
  if (inputs.motoEndpoint === '') return { name: 'bentocloud', skip: inputs.motoMissing, secrets: [], honoursProxyEnvironment: true, repository: () => Promise.reject(new Error(inputs.motoMissing)) };
  const api = await startBentoCloudApiDouble({ s3Endpoint: inputs.motoEndpoint, bucket: 'fault-harness-cloud', token: 'bc-t0ken-FAULT-harness-secret' });
  const proxy = await startFaultProxy({ targetPort: Number(new URL(api.url).port) });
  const client = directS3(inputs.motoEndpoint);
  return {
    name: 'bentocloud',
    api,
    proxy,
    secrets: [api.token],
    honoursProxyEnvironment: true,
    async repository(name) {
      return {
        args: ['--registry', 'bentocloud'],
        async prepareHome(home) {
          await mkdir(home, { recursive: true });
          await writeFile(
            path.join(home, '.yatai.yaml'),
            `contexts:\n- api_token: ${api.token}\n  email: fault-harness@example.com\n  endpoint: http://127.0.0.1:${proxy.port}\n  name: default\ncurrent_context_name: default\n`,
          );
        },
        async leftovers() {
          // The double keys objects by kind/name/version: every unfinished upload under a name of this case.
          const all = await unfinishedUploads(client, api.bucket, '');
          return all.filter((entry) => entry.includes(name));
        },
      };
    },
  };
}

/** Pick BentoCloud's transmission strategy for a case (seeded by the caller). */
export function configureBentoCloud(site: RegistrySite, pick: <T>(items: readonly T[]) => T): string | undefined {
  const api = (site as { api?: BentoCloudApiDouble }).api;
  if (api === undefined) return undefined;
  const transmission = pick(BENTOCLOUD_TRANSMISSIONS);
  api.configure({ transmission, downloadTransmission: transmission, fault: null });
  return transmission;
}

export interface Sites {
  transports: Record<TransportName, TransportSite>;
  registries: Record<RegistryName, RegistrySite>;
  close(): Promise<void>;
}

/** Start a fault proxy before every server and write the user's known_hosts for them. */
export async function startSites(inputs: SiteInputs): Promise<Sites> {
  await mkdir(path.join(inputs.userHome, '.ssh'), { recursive: true });
  const ftp = await loginUserSite('ftp', inputs.ftp, inputs.ftp.plainPort);
  const sftp = await loginUserSite('sftp', inputs.sftp, inputs.sftp.port);
  if (sftp.proxy !== undefined) {
    // The host key is checked against the port the client dials: the proxy's.
    const known = readFileSync(inputs.sftp.knownHosts, 'utf8').replace(`[127.0.0.1]:${inputs.sftp.port}`, `[127.0.0.1]:${sftp.proxy.port}`);
    await writeFile(path.join(inputs.userHome, '.ssh', 'known_hosts'), known);
  }
  const transports: Record<TransportName, TransportSite> = {
    fs: fsSite(inputs),
    ftp,
    sftp,
    http: await httpSite(inputs.http),
    s3: await s3Site(inputs),
  };
  const registries: Record<RegistryName, RegistrySite> = { oci: await ociSite(inputs.oci), bentocloud: await bentoCloudSite(inputs) };
  return {
    transports,
    registries,
    async close() {
      for (const site of [...Object.values(transports), ...Object.values(registries)]) await site.proxy?.close();
      await (registries.bentocloud as { api?: BentoCloudApiDouble }).api?.close();
    },
  };
}
