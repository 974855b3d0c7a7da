/**
 * Which proxy a request to `url` goes through, from the environment as curl and most tools read
 * it: `HTTPS_PROXY`/`https_proxy` for https (and other TLS schemes), `HTTP_PROXY`/`http_proxy`
 * for http, `ALL_PROXY`/`all_proxy` as the fallback, and `NO_PROXY`/`no_proxy` to bypass:
 * a comma- or space-separated list of host names (a name also matches its subdomains, a leading
 * `.` or `*.` is allowed), `host:port`, IP addresses, CIDR ranges for IPv4, or `*` for all.
 *
 * Node's `fetch` and the AWS SDK ignore these variables unless given an agent, so every network
 * plugin asks this one function and builds its agent from the answer.
 * @returns the proxy URL, or undefined for a direct connection.
 */
export function proxyForUrl(url: string | URL, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const target = typeof url === 'string' ? new URL(url) : url;
  const scheme = target.protocol.replace(/:$/, '').toLowerCase();
  const secure = scheme === 'https' || scheme === 'wss' || scheme === 'ftps' || scheme === 'oci' || scheme === 's3';
  const pick = (...names: string[]) => names.map((name) => env[name]).find((value) => value !== undefined && value !== '');
  const proxy = secure
    ? pick('HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy')
    : pick('HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy');
  if (proxy === undefined) return undefined;
  const port = target.port || defaultPort(scheme);
  if (bypassed(target.hostname, port, pick('NO_PROXY', 'no_proxy') ?? '')) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

function defaultPort(scheme: string): string {
  return ({ http: '80', https: '443', ftp: '21', ftps: '990', sftp: '22' } as Record<string, string>)[scheme] ?? '';
}

function ipv4ToNumber(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

function bypassed(rawHost: string, port: string, noProxy: string): boolean {
  const host = rawHost.replace(/^\[|\]$/g, '').toLowerCase();
  for (const rawEntry of noProxy.split(/[\s,]+/).filter(Boolean)) {
    const entry = rawEntry.toLowerCase();
    if (entry === '*') return true;
    const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(entry);
    if (cidr) {
      const network = ipv4ToNumber(cidr[1] as string);
      const address = ipv4ToNumber(host);
      const bits = Number(cidr[2]);
      if (network !== undefined && address !== undefined && bits <= 32) {
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        if (((network & mask) >>> 0) === ((address & mask) >>> 0)) return true;
      }
      continue;
    }
    let name = entry;
    let entryPort: string | undefined;
    const portMatch = /^(.*[^:]):(\d+)$/.exec(name);
    if (portMatch && !name.startsWith('[')) {
      name = portMatch[1] as string;
      entryPort = portMatch[2];
    }
    name = name.replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
    if (entryPort !== undefined && entryPort !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}
