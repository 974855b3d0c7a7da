import { apiVersion, BentoportError, isBentoportError, type Format, type Registry, type Transport } from '@bentoport/spec';

/** What BentoML's format tokens hold, for messages about a token no installed plugin serves. */
const FORMAT_DESCRIPTIONS: Record<string, string> = {
  bento: "tar+xz, BentoML's native bento format",
  bentomodel: "tar+xz, BentoML's native model format",
  xz: 'tar+xz',
  bz2: 'tar+bzip2',
  gz: 'tar+gzip',
  tar: 'tar',
  zip: 'zip',
};

/**
 * Magic numbers of BentoML's archive formats, so that bytes of a format no installed plugin reads
 * are named by their token ("no installed format reads 'xz'") instead of "not an archive".
 */
const KNOWN_MAGIC: Array<{ token: string; bytes: number[]; offset?: number }> = [
  { token: 'gz', bytes: [0x1f, 0x8b] },
  { token: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { token: 'bz2', bytes: [0x42, 0x5a, 0x68] },
  { token: 'zip', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { token: 'zip', bytes: [0x50, 0x4b, 0x05, 0x06] },
  { token: 'tar', bytes: [0x75, 0x73, 0x74, 0x61, 0x72], offset: 257 },
];

/** The kinds of plugin. */
export type PluginKind = 'transport' | 'format' | 'registry';

/**
 * What a "no plugin serves this" error carries in `details`, so a host (the CLI) can add how to
 * install one without parsing the message.
 */
export interface MissingPluginDetails {
  kind: PluginKind;
  /** The protocol, format token or registry URL scheme asked for. */
  name: string;
  /** What the installed plugins of that kind serve. */
  installed: string[];
}

function unique(names: Iterable<string>): string[] {
  return [...new Set(names)];
}

function installedList(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}

/**
 * The error for a protocol no installed transport serves.
 * @example unsupportedProtocolError('gs', 'gs://bucket/x.bento', ['file', 's3'])
 */
export function unsupportedProtocolError(protocol: string, display: string, installed: Iterable<string>): BentoportError {
  const names = unique(installed);
  const details: MissingPluginDetails = { kind: 'transport', name: protocol, installed: names };
  return new BentoportError('ERR_UNSUPPORTED_PROTOCOL', `no installed transport serves protocol '${protocol}' (${display}); installed protocols: ${installedList(names)}`, {
    details: { ...details },
  });
}

/** The error for a format token no installed format plugin reads or writes. */
export function unsupportedFormatError(token: string, installed: Iterable<string>): BentoportError {
  const names = unique(installed);
  const details: MissingPluginDetails = { kind: 'format', name: token, installed: names };
  const description = FORMAT_DESCRIPTIONS[token] === undefined ? '' : ` (${FORMAT_DESCRIPTIONS[token]})`;
  return new BentoportError(
    'ERR_UNSUPPORTED_FORMAT',
    `no installed format reads or writes '${token}'${description}; installed formats: ${installedList(names)}, and folder for local directories`,
    { details: { ...details } },
  );
}

/** The error for a registry URL whose scheme no installed registry plugin serves. */
export function unsupportedRegistryError(scheme: string, display: string, installed: Iterable<string>): BentoportError {
  const names = unique(installed);
  const details: MissingPluginDetails = { kind: 'registry', name: scheme, installed: names };
  return new BentoportError('ERR_UNSUPPORTED_PROTOCOL', `no installed registry serves '${scheme}://' (${display}); installed registry schemes: ${installedList(names)}`, {
    details: { ...details },
  });
}

/** The details of a "no plugin serves this" error from this module, else undefined. */
export function missingPluginDetails(error: unknown): MissingPluginDetails | undefined {
  if (!isBentoportError(error)) return undefined;
  const details = error.details as Partial<MissingPluginDetails>;
  if (typeof details.name !== 'string' || !Array.isArray(details.installed)) return undefined;
  if (details.kind !== 'transport' && details.kind !== 'format' && details.kind !== 'registry') return undefined;
  return { kind: details.kind, name: details.name, installed: details.installed };
}

/**
 * Refuse a plugin written for another contract version.
 * @throws {BentoportError} ERR_PLUGIN_VERSION unless `plugin.apiVersion` is this core's `apiVersion`.
 */
export function checkApiVersion(kind: PluginKind, plugin: { apiVersion: number; name: string }): void {
  if (plugin.apiVersion !== apiVersion) {
    throw new BentoportError(
      'ERR_PLUGIN_VERSION',
      `${kind} plugin '${plugin.name}' speaks apiVersion ${plugin.apiVersion}, this @bentoport/core speaks ${apiVersion}; install matching versions`,
    );
  }
}

/** The installed plugins, looked up by format token and protocol. No global registry: instances are passed in. */
export interface PluginSet {
  formatFor(token: string): Format;
  transportFor(protocol: string, display: string): Transport;
  /** The format token the bytes start with, among installed codecs, else a clear error. */
  sniff(head: Uint8Array, sourceDisplay: string): string;
  /** Every installed format token. */
  formats(): string[];
  readonly registries: readonly Registry[];
}

export function pluginSet(formats: Format[], transports: Transport[], registries: Registry[] = []): PluginSet {
  formats.forEach((format) => checkApiVersion('format', format));
  transports.forEach((transport) => checkApiVersion('transport', transport));
  registries.forEach((registry) => checkApiVersion('registry', registry));
  const formatTokens = () => formats.flatMap((format) => format.formats);
  return {
    registries,
    formats: formatTokens,
    formatFor(token) {
      const format = formats.find((candidate) => candidate.formats.includes(token));
      if (format) return format;
      if (token === 'folder') {
        throw new BentoportError('ERR_UNSUPPORTED_FORMAT', `format 'folder' is a directory, not an archive codec: export and import handle it themselves (local paths only)`);
      }
      throw unsupportedFormatError(token, formatTokens());
    },
    transportFor(protocol, display) {
      const transport = transports.find((candidate) => candidate.protocols.includes(protocol));
      if (transport) return transport;
      throw unsupportedProtocolError(protocol, display, transports.flatMap((candidate) => candidate.protocols));
    },
    sniff(head, sourceDisplay) {
      for (const format of formats) {
        const token = format.sniff(head);
        if (token !== undefined) return token;
      }
      const known = KNOWN_MAGIC.find(({ bytes, offset = 0 }) => bytes.every((byte, index) => head[offset + index] === byte));
      if (known) return known.token; // formatFor() then says no installed plugin reads it
      throw new BentoportError(
        'ERR_UNSUPPORTED_FORMAT',
        `${sourceDisplay} is not an archive bentoport can read: its first bytes match no known format (installed formats: ${installedList(unique(formatTokens()))})`,
      );
    },
  };
}
