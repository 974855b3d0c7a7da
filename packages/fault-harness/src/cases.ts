import { deriveSeed, seededRandom } from '@bentoport/test-utils';
import type { RegistryName, SiteName, TransportName } from './sites.js';

export type Operation = 'export' | 'import' | 'models-export' | 'models-import' | 'push' | 'pull';

export type Fault =
  // the process
  | 'sigkill'
  | 'sigterm'
  | 'sigint'
  | 'sighup'
  | 'close-stderr'
  | 'close-stdout'
  // the network, through the fault proxy
  | 'net-reset'
  | 'net-truncate'
  | 'net-stall'
  | 'net-trickle'
  | 'net-restart'
  | 'proxy-refused'
  // the local machine
  | 'disk-full'
  | 'read-only'
  | 'permission-denied'
  | 'lock-held'
  // other bentoport processes
  | 'concurrent-imports'
  | 'delete-during-export';

export const OPERATIONS: readonly Operation[] = ['export', 'import', 'models-export', 'models-import', 'push', 'pull'];
export const TRANSPORTS: readonly TransportName[] = ['fs', 'ftp', 'sftp', 'http', 's3'];
export const REGISTRIES: readonly RegistryName[] = ['oci', 'bentocloud'];
export const PROCESS_FAULTS: readonly Fault[] = ['sigkill', 'sigterm', 'sigint', 'sighup', 'close-stderr', 'close-stdout'];
export const NETWORK_FAULTS: readonly Fault[] = ['net-reset', 'net-truncate', 'net-stall', 'net-trickle', 'net-restart', 'proxy-refused'];
export const LOCAL_FAULTS: readonly Fault[] = ['disk-full', 'read-only', 'permission-denied', 'lock-held'];
export const CONCURRENCY_FAULTS: readonly Fault[] = ['concurrent-imports', 'delete-during-export'];
export const FAULTS: readonly Fault[] = [...PROCESS_FAULTS, ...NETWORK_FAULTS, ...LOCAL_FAULTS, ...CONCURRENCY_FAULTS];

/** The invariants every faulted run is checked against (the keys of the totals and of known-violations.ts). */
export const INVARIANTS = {
  'a-store-whole': 'the store holds every item whole or not at all',
  'b-leftovers': 'no temporary file, staging directory, lock or unfinished upload outlives the run (after SIGKILL: the next run removes them and says so)',
  'c-destination': 'the destination shows the old object or the complete new one, never a partial one',
  'd-exit-output': 'a one-line error, no stack trace, and a documented exit code (0, 1, 2, 130 SIGINT, 143 SIGTERM, 129 SIGHUP)',
  'e-bound': 'the operation ends within its bound',
  'f-secrets': 'no password or token appears in the output',
  'g-rerun': 'the same operation without the fault then completes with a whole result',
  'h-proxy': 'a refusing HTTP(S)_PROXY stops the operation (the proxy is honoured)',
  'setup': 'the harness could prepare the case (a clean run before the fault)',
} as const;
export type Invariant = keyof typeof INVARIANTS;

export const isRegistryOperation = (operation: Operation): boolean => operation === 'push' || operation === 'pull';
export const isImportLike = (operation: Operation): boolean => operation === 'import' || operation === 'models-import' || operation === 'pull';
export const isExportLike = (operation: Operation): boolean => operation === 'export' || operation === 'models-export';

/** One cell of the matrix: an operation over a site under a fault. */
export interface CaseSpec {
  operation: Operation;
  site: SiteName;
  fault: Fault;
}

export const caseId = (spec: CaseSpec): string => `${spec.operation}/${spec.site}/${spec.fault}`;

export function parseCaseId(id: string): CaseSpec {
  const [operation, site, fault] = id.split('/') as [Operation, SiteName, Fault];
  if (!OPERATIONS.includes(operation) || !FAULTS.includes(fault) || ![...TRANSPORTS, ...REGISTRIES].includes(site as TransportName)) {
    throw new Error(`FAULT_CASE='${id}' is not operation/site/fault (operations: ${OPERATIONS.join(', ')}; faults: ${FAULTS.join(', ')})`);
  }
  return { operation, site, fault };
}

/** What a site can be put through: network faults need a network path, HTTP proxies a client that reads them. */
export interface SiteAbilities {
  network: boolean;
  proxyEnvironment: boolean;
}

export function applies(spec: CaseSpec, abilities: SiteAbilities): boolean {
  const { operation, site, fault } = spec;
  if (isRegistryOperation(operation) !== REGISTRIES.includes(site as RegistryName)) return false;
  if (PROCESS_FAULTS.includes(fault)) return true;
  if (fault === 'proxy-refused') return abilities.proxyEnvironment;
  if (NETWORK_FAULTS.includes(fault)) return abilities.network;
  if (fault === 'lock-held' || fault === 'concurrent-imports') return isImportLike(operation);
  if (fault === 'delete-during-export') return isExportLike(operation) || operation === 'push';
  // Disk full, read-only and permission denied hit the store of an import, or a local destination.
  if (LOCAL_FAULTS.includes(fault)) return isImportLike(operation) || (isExportLike(operation) && site === 'fs');
  return false;
}

/** Every applicable cell. */
export function allCases(abilities: (site: SiteName) => SiteAbilities): CaseSpec[] {
  const cases: CaseSpec[] = [];
  for (const operation of OPERATIONS) {
    for (const site of [...TRANSPORTS, ...REGISTRIES]) {
      for (const fault of FAULTS) {
        const spec = { operation, site, fault };
        if (applies(spec, abilities(site))) cases.push(spec);
      }
    }
  }
  return cases;
}

/** A case with the seed that replays it. */
export interface SeededCase extends CaseSpec {
  id: string;
  seed: number;
  /** The soak profile draws its faults differently (stalls that never end, longer bounds). */
  profile?: 'quick' | 'soak';
}

/**
 * The quick profile: every operation over every site once, each under a fault picked by the seed,
 * then one more case for every fault not drawn yet, so every fault kind runs on every run.
 */
export function quickSelection(baseSeed: number, all: CaseSpec[]): SeededCase[] {
  const random = seededRandom(deriveSeed(baseSeed, 'quick-selection'));
  const chosen: CaseSpec[] = [];
  const cells = new Map<string, CaseSpec[]>();
  for (const spec of all) {
    const cell = `${spec.operation}/${spec.site}`;
    cells.set(cell, [...(cells.get(cell) ?? []), spec]);
  }
  for (const candidates of cells.values()) chosen.push(random.pick(candidates));
  for (const fault of FAULTS) {
    if (chosen.some((spec) => spec.fault === fault)) continue;
    const candidates = all.filter((spec) => spec.fault === fault);
    if (candidates.length > 0) chosen.push(random.pick(candidates));
  }
  return chosen.map((spec, index) => ({ ...spec, id: caseId(spec), seed: deriveSeed(baseSeed, `${index}:${caseId(spec)}`) }));
}

/** The soak profile's n-th injection: any applicable cell, with its own seed. */
export function soakCase(baseSeed: number, index: number, all: CaseSpec[]): SeededCase {
  const random = seededRandom(deriveSeed(baseSeed, `soak:${index}`));
  const spec = random.pick(all);
  return { ...spec, id: caseId(spec), seed: deriveSeed(baseSeed, `soak:${index}:${caseId(spec)}`), profile: 'soak' };
}

/** The one-line command that replays a case. */
export function reproduceCommand(seeded: SeededCase): string {
  const profile = seeded.profile === 'soak' ? 'FAULT_PROFILE=soak ' : '';
  return `${profile}FAULT_SEED=${seeded.seed} FAULT_CASE='${seeded.id}' pnpm exec vitest run --project fault-harness`;
}
