import { existsSync } from 'node:fs';
import { getRegistryItem, isDockerStyleReference, listRegistryItems, registryItemYaml, type Registry, type RegistryItemInfo } from '@bentoport/core';
import { UsageError, type OptionValues } from './command-line.js';
import type { PluginCatalog } from './plugin-discovery.js';
import { pluginServing } from './plugin-loading.js';
import { registriesFor } from './registry-commands.js';
import { humanSize, localTime, renderListing } from './render.js';

/** What `list URL` and `get URL/TAG` need of the command they run in. */
export interface RegistryListingContext {
  values: OptionValues;
  env: NodeJS.ProcessEnv;
  catalog(): Promise<PluginCatalog>;
  signal: AbortSignal;
  kind: 'bento' | 'model';
  write(text: string): void;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/**
 * The registry a `list` or `get` argument names, or undefined for a store tag: a URL whose scheme
 * an installed registry plugin serves (`oci://HOST/REPOSITORY`, `bentocloud://CONTEXT`), or a
 * docker-style `HOST[:PORT]/REPOSITORY` (a `/` in it: a BentoML tag never has one) whose first
 * component is not an existing local path.
 */
export async function registryAddressOf(argument: string, catalog: () => Promise<PluginCatalog>): Promise<string | undefined> {
  const scheme = SCHEME.exec(argument)?.[1];
  if (scheme !== undefined) return pluginServing(await catalog(), 'registry', scheme.toLowerCase()) === undefined ? undefined : argument;
  // `mnt.usb/bentos` reads as docker-style too: a folder that exists here is a remote store instead.
  return argument.includes('/') && isDockerStyleReference(argument) && !existsSync(argument.split('/')[0] as string) ? argument : undefined;
}

/** `get URL/TAG` split at its last `/`: the registry's address and the tag, or undefined for a store tag. */
export async function registryItemArgument(argument: string, catalog: () => Promise<PluginCatalog>): Promise<{ address: string; tag: string } | undefined> {
  const slash = argument.lastIndexOf('/');
  if (slash === -1) return undefined;
  const address = await registryAddressOf(argument.slice(0, slash), catalog);
  const tag = argument.slice(slash + 1);
  if (address === undefined) return undefined;
  if (tag === '') throw new UsageError(`'${argument}' names a registry but no TAG: use URL/NAME[:VERSION]`, 'get');
  return { address, tag };
}

/** The registry plugin for `address`, made with the command line's registry settings. */
async function registryAt(context: RegistryListingContext, address: string): Promise<Registry> {
  const [registry] = await registriesFor({ ...context.values, registry: address }, context.env, () => context.catalog());
  return registry as Registry;
}

const sizeText = (bytes: number | undefined): string => (bytes === undefined ? '-' : humanSize(bytes));

/** One row of `list URL`: the local list's keys, with the registry and digest where the local one has the path. */
function listingRow(item: RegistryItemInfo): Record<string, string | number | null> {
  const creationTime = item.creationTime === undefined ? '-' : localTime(item.creationTime);
  const where = { registry: item.registry, digest: item.digest ?? null };
  if (item.kind === 'model') return { tag: item.tag, module: item.module ?? '', size: sizeText(item.size), creation_time: creationTime, size_bytes: item.size ?? null, ...where };
  return {
    tag: item.tag,
    size: sizeText(item.size),
    model_size: sizeText(item.modelSize),
    creation_time: creationTime,
    size_bytes: item.size ?? null,
    model_size_bytes: item.modelSize ?? null,
    ...where,
  };
}

/** `list URL [NAME]`: what the registry holds, in the columns and outputs of the local `list`. */
export async function runRegistryList(context: RegistryListingContext, address: string, tagLike: string | undefined, output: 'table' | 'json' | 'yaml'): Promise<void> {
  const registry = await registryAt(context, address);
  const items = await listRegistryItems(registry, context.kind, tagLike, { signal: context.signal });
  context.write(renderListing(output, context.kind === 'model' ? 'Model' : 'Bento', items.map(listingRow)));
}

/**
 * `get URL/TAG`: the item's yaml (where the registry keeps it, else its listing), its JSON, or,
 * for `-o path`, where it lives (`oci://HOST/REPOSITORY/NAME:VERSION`): a registry item has no store path.
 */
export async function runRegistryGet(context: RegistryListingContext, address: string, tag: string, output: 'yaml' | 'json' | 'path'): Promise<void> {
  const registry = await registryAt(context, address);
  const item = await getRegistryItem(registry, context.kind, tag, { signal: context.signal });
  if (output === 'path') return context.write(`${registry.url}/${item.tag}\n`);
  if (output === 'json') return context.write(`${JSON.stringify(item.document ?? item, null, 2)}\n`);
  context.write(registryItemYaml(item));
}
