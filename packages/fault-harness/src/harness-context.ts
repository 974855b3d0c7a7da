import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { makeScratchDir, startRefusingProxy } from '@bentoport/test-utils';
import { CLI_PATH } from './cli-child.js';
import { allCases, caseId, reproduceCommand, type CaseSpec, type SeededCase } from './cases.js';
import { knownViolation } from './known-violations.js';
import { mountProbe, type CaseRecord, type HarnessContext } from './run-case.js';
import { startSites, type SiteInputs, type SiteName } from './sites.js';

/** The seed of a run when FAULT_SEED does not give one. */
export const DEFAULT_SEED = 16;

/** The servers the global setups started, as inject() gives them. */
export function siteInputs(): Omit<SiteInputs, 'scratch' | 'userHome'> {
  return { ftp: inject('ftp'), sftp: inject('sftp'), http: inject('http'), oci: inject('oci'), motoEndpoint: inject('motoEndpoint'), motoMissing: inject('motoMissing') };
}

/** Why each site cannot run here (undefined: it can), naming what to install. */
export function siteSkips(inputs: Omit<SiteInputs, 'scratch' | 'userHome'>): Record<SiteName, string | undefined> {
  const cli = existsSync(CLI_PATH) ? undefined : `${CLI_PATH} is missing: build first (pnpm -s turbo run build)`;
  if (cli !== undefined && process.env.CI === 'true') throw new Error(cli);
  const moto = inputs.motoEndpoint === '' ? inputs.motoMissing || 'moto is not running' : undefined;
  return {
    fs: cli,
    ftp: cli ?? inputs.ftp.skip,
    sftp: cli ?? inputs.sftp.skip,
    http: cli ?? inputs.http.skip,
    s3: cli ?? moto,
    oci: cli ?? inputs.oci.skip,
    bentocloud: cli ?? moto,
  };
}

/** Which faults a site can take: network faults need a network path, a refusing proxy an HTTP client. */
export const abilities = (site: SiteName) => ({ network: site !== 'fs', proxyEnvironment: ['http', 's3', 'oci', 'bentocloud'].includes(site) });

export const everyCase = (): CaseSpec[] => allCases(abilities);

export async function createContext(inputs: Omit<SiteInputs, 'scratch' | 'userHome'>, soak: boolean): Promise<HarnessContext> {
  const scratch = await makeScratchDir('fault-harness');
  // Children run as nobody for permission faults: they must pass through these.
  chmodSync(scratch, 0o755);
  const userHome = path.join(scratch, 'user-home');
  mkdirSync(userHome, { recursive: true });
  chmodSync(userHome, 0o755);
  const sites = await startSites({ ...inputs, scratch, userHome });
  return {
    sites,
    userHome,
    refusingProxy: await startRefusingProxy(),
    mountUnavailable: mountProbe(scratch),
    otherUserUnavailable: process.getuid?.() === 0 ? undefined : 'not running as root: cannot run the CLI as another user for permission faults',
    hardTimeoutMs: soak ? 240_000 : 90_000,
    soak,
  };
}

export async function closeContext(context: HarnessContext | undefined): Promise<void> {
  await context?.sites.close();
  await context?.refusingProxy.close();
}

/** The case log: seed, reproduction line, what happened, each violation (known ones marked). */
export function formatRecord(record: CaseRecord, seeded: SeededCase): string {
  const lines = [
    `[fault-harness] ${record.id} seed=${record.seed} injected=${record.injected ? 'yes' : 'no'} ${record.durationMs} ms, ${record.violations.length} violation(s)`,
    `  reproduce: ${reproduceCommand(seeded)}`,
    ...record.notes.map((line) => `  - ${line}`),
    ...record.violations.map((violation) => `  ${knownViolation(record.id, violation.invariant, violation.detail) ? 'KNOWN' : 'VIOLATION'} ${violation.invariant}: ${violation.detail}`),
  ];
  return lines.join('\n');
}

export { caseId };
