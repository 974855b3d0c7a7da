import { BentoportError, type Format, type Registry, type Transport } from '@bentoport/spec';

/** The package that brings each format token, for "not installed" messages. */
const FORMAT_PACKAGES: Record<string, string> = {
  tar: '@bentoport/format-tar',
  gz: '@bentoport/format-tar',
  zip: '@bentoport/format-zip',
  bento: '@bentoport/format-xz',
  bentomodel: '@bentoport/format-xz',
  xz: '@bentoport/format-xz',
  bz2: '@bentoport/format-bz2',
};

const FORMAT_DESCRIPTIONS: Record<string, string> = {
  bento: "tar+xz, BentoML's native bento format",
  bentomodel: "tar+xz, BentoML's native model format",
  xz: 'tar+xz',
  bz2: 'tar+bzip2',
  gz: 'tar+gzip',
  tar: 'tar',
  zip: 'zip',
};

/** The package that brings each protocol. */
const PROTOCOL_PACKAGES: Record<string, string> = {
  file: '@bentoport/transport-fs',
  s3: '@bentoport/transport-s3',
  s3a: '@bentoport/transport-s3',
  ftp: '@bentoport/transport-ftp',
  ftps: '@bentoport/transport-ftp',
  sftp: '@bentoport/transport-sftp',
  http: '@bentoport/transport-http',
  https: '@bentoport/transport-http',
};

/** Magic numbers of every format we know of, so a missing plugin can be named. */
const KNOWN_MAGIC: Array<{ token: string; name: string; bytes: number[]; offset?: number }> = [
  { token: 'gz', name: 'gzip', bytes: [0x1f, 0x8b] },
  { token: 'xz', name: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { token: 'bz2', name: 'bzip2', bytes: [0x42, 0x5a, 0x68] },
  { token: 'zip', name: 'zip', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { token: 'zip', name: 'zip', bytes: [0x50, 0x4b, 0x05, 0x06] },
  { token: 'tar', name: 'tar', bytes: [0x75, 0x73, 0x74, 0x61, 0x72], offset: 257 },
];

function checkApiVersion(kind: string, plugin: { apiVersion: number; name: string }): void {
  if (plugin.apiVersion !== 1) {
    throw new BentoportError(
      'ERR_PLUGIN_VERSION',
      `${kind} plugin '${plugin.name}' speaks apiVersion ${plugin.apiVersion}, this @bentoport/core speaks 1; install matching versions`,
    );
  }
}

/** The installed plugins, looked up by format token and protocol. No global registry: instances are passed in. */
export interface PluginSet {
  formatFor(token: string): Format;
  transportFor(protocol: string, display: string): Transport;
  /** The format token the bytes start with, among installed codecs, else a clear error. */
  sniff(head: Uint8Array, sourceDisplay: string): string;
  readonly registries: readonly Registry[];
}

export function pluginSet(formats: Format[], transports: Transport[], registries: Registry[] = []): PluginSet {
  formats.forEach((format) => checkApiVersion('format', format));
  transports.forEach((transport) => checkApiVersion('transport', transport));
  registries.forEach((registry) => checkApiVersion('registry', registry));
  return {
    registries,
    formatFor(token) {
      const format = formats.find((candidate) => candidate.formats.includes(token));
      if (format) return format;
      if (token === 'folder') {
        throw new BentoportError('ERR_UNSUPPORTED_FORMAT', `format 'folder' is a directory, not an archive codec: export and import handle it themselves (local paths only)`);
      }
      const packageName = FORMAT_PACKAGES[token];
      if (!packageName) {
        throw new BentoportError(
          'ERR_UNSUPPORTED_FORMAT',
          `unknown format '${token}'; known formats are bento, bentomodel, gz, xz, bz2, tar, zip and folder`,
        );
      }
      throw new BentoportError(
        'ERR_UNSUPPORTED_FORMAT',
        `format '${token}' (${FORMAT_DESCRIPTIONS[token]}) needs the ${packageName} plugin, which is not installed; install it or choose another format (e.g. a .tar.gz name or --format gz)`,
      );
    },
    transportFor(protocol, display) {
      const transport = transports.find((candidate) => candidate.protocols.includes(protocol));
      if (transport) return transport;
      const packageName = PROTOCOL_PACKAGES[protocol];
      if (packageName) {
        throw new BentoportError(
          'ERR_UNSUPPORTED_PROTOCOL',
          `protocol '${protocol}' (${display}) needs the ${packageName} plugin, which is not installed`,
        );
      }
      throw new BentoportError(
        'ERR_UNSUPPORTED_PROTOCOL',
        `Unknown or unsupported protocol ${protocol}. Some supported protocols are 'ftp', 's3', and 'file'.`,
      );
    },
    sniff(head, sourceDisplay) {
      for (const format of formats) {
        const token = format.sniff(head);
        if (token !== undefined) return token;
      }
      const known = KNOWN_MAGIC.find(({ bytes, offset = 0 }) => bytes.every((byte, index) => head[offset + index] === byte));
      if (known) return known.token; // formatFor() then names the missing plugin
      throw new BentoportError(
        'ERR_UNSUPPORTED_FORMAT',
        `${sourceDisplay} is not an archive bentoport can read: its first bytes match no known format (tar, gzip, xz, bzip2, zip)`,
      );
    },
  };
}
