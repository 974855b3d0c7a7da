import { hostname as localHostname, userInfo } from 'node:os';
import { parseNetloc, pluginFailure, resolveLogin } from '@bentoport/plugin-kit';
import type { Location } from '@bentoport/spec';
import { COMPONENT } from './sftp-status.js';
import { expandHome, expandTokens, readSshConfig, SshConfigError, type SshHostConfig, type Sourced } from './ssh-config.js';

/**
 * Where and as whom to log in, from a location: the URL first, then the OpenSSH client
 * configuration for the host as typed, then netrc, then the local user name.
 */
export interface SftpEndpoint {
  hostname: string;
  port: number;
  user: string;
  password: string | undefined;
  /** Key files from the configuration's `IdentityFile`s, offered instead of the transport's. */
  privateKeyPaths?: string[];
  /** False when the configuration says `IdentitiesOnly yes`: the agent is not asked. */
  useAgent: boolean;
  /** known_hosts files from the configuration's `UserKnownHostsFile`. */
  knownHosts?: string[];
  /** From the configuration's `ConnectTimeout`. */
  connectTimeoutMs?: number;
  /** Identifies connections that can be shared (kept in memory only). */
  key: string;
}

export interface EndpointSettings {
  netrc: boolean;
  env: NodeJS.ProcessEnv;
  defaultUser: string;
  /** The user's home directory (`env.HOME`, else the system's), for `~` and `%d`. */
  home: string;
  /** The OpenSSH client configuration to read, or false; `required` when the user named it. */
  sshConfig: { path: string; required: boolean } | false;
  /** The options the user gave, which the configuration does not override. */
  given: { privateKeys: boolean; agent: boolean; knownHosts: boolean; connectTimeoutMs: boolean };
}

/** The system-wide known_hosts file that ssh reads after the user's ones. */
const GLOBAL_KNOWN_HOSTS = '/etc/ssh/ssh_known_hosts';

async function hostConfig(alias: string, settings: EndpointSettings, display: string): Promise<SshHostConfig> {
  if (settings.sshConfig === false) return { identityFiles: [] };
  try {
    return await readSshConfig(settings.sshConfig.path, alias, { home: settings.home, required: settings.sshConfig.required });
  } catch (error) {
    if (!(error instanceof SshConfigError)) throw error;
    throw pluginFailure(COMPONENT, 'ERR_INVALID_OPTION', 'RESOLVE', display, `bad SSH configuration: ${error.message}`, { cause: error });
  }
}

/** The `%` tokens of IdentityFile and UserKnownHostsFile, as ssh fills them. */
function pathTokens(alias: string, hostname: string, port: number, user: string, settings: EndpointSettings): Record<string, string> {
  const local = localHostname();
  let uid = '';
  try {
    uid = String(userInfo().uid);
  } catch {
    // No passwd entry: %i stays unknown.
  }
  return { d: settings.home, h: hostname, i: uid, L: local.split('.')[0] ?? local, l: local, n: alias, p: String(port), r: user, u: settings.defaultUser };
}

function expandPath(sourced: Sourced<string>, tokens: Record<string, string>, settings: EndpointSettings, display: string): string {
  try {
    return expandTokens(expandHome(sourced.value, settings.home), tokens, sourced);
  } catch (error) {
    if (!(error instanceof SshConfigError)) throw error;
    throw pluginFailure(COMPONENT, 'ERR_INVALID_OPTION', 'RESOLVE', display, `bad SSH configuration: ${error.message}`, { cause: error });
  }
}

export async function resolveEndpoint(location: Location, settings: EndpointSettings): Promise<SftpEndpoint> {
  if (location.protocol !== 'sftp') {
    throw pluginFailure(COMPONENT, 'ERR_UNSUPPORTED_PROTOCOL', 'RESOLVE', location.display, `protocol ${location.protocol} is not sftp`);
  }
  if (location.query !== '') {
    const names = [...new URLSearchParams(location.query).keys()].join(', ');
    throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'RESOLVE', location.display, `unknown parameter ${names} (the SFTP transport reads none)`);
  }
  const netloc = parseNetloc(location.host, location.display);
  const alias = netloc.hostname;
  const config = await hostConfig(alias, settings, location.display);
  if (config.proxy !== undefined && config.proxy.value.toLowerCase() !== 'none') {
    const { keyword, file, line } = config.proxy;
    throw pluginFailure(COMPONENT, 'ERR_INVALID_OPTION', 'RESOLVE', location.display,
      `${keyword} for host ${alias} (${file} line ${line}) is not supported: bentoport never runs ssh, and will not connect around the proxy`);
  }
  const hostname = config.hostName === undefined ? alias : expandPath(config.hostName, { h: alias }, settings, location.display);
  // The URL's user wins over the configuration's, and netrc gives only the password of that user.
  const login = await resolveLogin({ ...netloc, user: netloc.user ?? config.user?.value }, { netrc: settings.netrc, env: settings.env, home: settings.home });
  const { password } = login;
  const user = login.user ?? settings.defaultUser;
  const port = netloc.port ?? config.port?.value ?? 22;
  const tokens = pathTokens(alias, hostname, port, user, settings);
  const endpoint: SftpEndpoint = { hostname, port, user, password, useAgent: true, key: '' };
  if (!settings.given.privateKeys && config.identityFiles.length > 0) {
    endpoint.privateKeyPaths = config.identityFiles.map((file) => expandPath(file, tokens, settings, location.display));
  }
  if (!settings.given.agent && config.identitiesOnly?.value === true) endpoint.useAgent = false;
  if (!settings.given.knownHosts && config.userKnownHostsFiles !== undefined) {
    const files = config.userKnownHostsFiles.value.map((value) => expandPath({ ...config.userKnownHostsFiles!, value }, tokens, settings, location.display));
    endpoint.knownHosts = [...files, GLOBAL_KNOWN_HOSTS];
  }
  // ssh reads ConnectTimeout 0 as "the system's default": ours.
  if (!settings.given.connectTimeoutMs && config.connectTimeoutMs !== undefined && config.connectTimeoutMs.value > 0) {
    endpoint.connectTimeoutMs = config.connectTimeoutMs.value;
  }
  endpoint.key = JSON.stringify([hostname, port, user, password ?? null, endpoint.privateKeyPaths ?? null, endpoint.useAgent, endpoint.knownHosts ?? null, endpoint.connectTimeoutMs ?? null]);
  return endpoint;
}
