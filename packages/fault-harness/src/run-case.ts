import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { chmod, cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeScratchDir, seededRandom, writeSampleBento, type FaultProxy, type ProxyFault, type RefusingProxy, type SampleBentoOptions, type SeededRandom } from '@bentoport/test-utils';
import { isProgressLine, runCli, type ChildResult, type ProcessAction, type Trigger } from './cli-child.js';
import { isExportLike, isImportLike, NETWORK_FAULTS, PROCESS_FAULTS, type Fault, type Invariant, type SeededCase } from './cases.js';
import { checkProcess, describeEnd, messageLines, type Violate } from './process-checks.js';
import { configureBentoCloud, S3_ACCESS_KEY, S3_SECRET, type RegistrySite, type RemoteDirectory, type RemoteRepository, type Sites, type TransportSite } from './sites.js';
import { inspectItems, storeLeftovers, type ExpectedItem } from './store-inspection.js';

export interface Violation {
  invariant: Invariant;
  detail: string;
}

export interface CaseRecord {
  id: string;
  operation: string;
  site: string;
  fault: Fault;
  seed: number;
  profile?: 'quick' | 'soak';
  /** Whether the fault took effect (a process fault can come too late, a proxy fault too far into the stream). */
  injected: boolean;
  violations: Violation[];
  /** What happened, line by line, for the log. */
  notes: string[];
  durationMs: number;
}

export interface HarnessContext {
  sites: Sites;
  userHome: string;
  refusingProxy: RefusingProxy;
  /** Why tmpfs mounts (disk full, read-only) cannot be used here, if they cannot. */
  mountUnavailable?: string;
  /** Why another user (permission denied) cannot be used here, if it cannot. */
  otherUserUnavailable?: string;
  hardTimeoutMs: number;
  soak: boolean;
}

const NOBODY = 65534;
const SIGNALS: Partial<Record<Fault, ProcessAction>> = {
  sigkill: 'SIGKILL',
  sigterm: 'SIGTERM',
  sigint: 'SIGINT',
  sighup: 'SIGHUP',
  'close-stderr': 'close-stderr',
  'close-stdout': 'close-stdout',
};
/** What a run that cleaned up after itself may say about it. */
const SAYS_IT_CLEANED = /remov|clean|stale|left ?over|left behind/i;

/** Whether this machine lets the harness mount a tmpfs (root, and mount allowed). */
export function mountProbe(scratch: string): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root: tmpfs mounts for disk-full and read-only faults need root';
  const probe = path.join(scratch, 'mount-probe');
  try {
    execFileSync('mkdir', ['-p', probe]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return undefined;
  } catch (error) {
    return `mount -t tmpfs failed here (${(error as Error).message.split('\n')[0]}): no disk-full or read-only faults`;
  }
}

function mountTmpfs(directory: string, bytes: number, readOnly = false): void {
  const size = Math.max(16 * 1024, Math.ceil(bytes / 4096) * 4096);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${readOnly ? ',ro' : ''},mode=0755`, 'tmpfs', directory]);
}
const remount = (directory: string, options: string): void => void execFileSync('mount', ['-o', `remount,${options}`, directory]);
const unmount = (directory: string): void => {
  try {
    execFileSync('umount', ['-l', directory], { stdio: 'ignore' });
  } catch {
    // not mounted
  }
};

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

export function childEnvironment(context: HarnessContext, caseRoot: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const s3 = context.sites.transports.s3.proxy;
  return {
    PATH: process.env.PATH,
    HOME: context.userHome,
    XDG_CONFIG_HOME: path.join(caseRoot, 'config'),
    XDG_CACHE_HOME: path.join(caseRoot, 'cache'),
    // A temporary directory of the case's own, so what the CLI leaves in it is seen.
    TMPDIR: path.join(caseRoot, 'tmpdir'),
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    ...(s3 !== undefined ? { AWS_ENDPOINT_URL: `http://127.0.0.1:${s3.port}` } : {}),
    AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: S3_SECRET,
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    HTTP_PROXY: '',
    HTTPS_PROXY: '',
    ALL_PROXY: '',
    NO_PROXY: '',
    BENTOPORT_REGISTRY: '',
    BENTO_CLOUD_API_KEY: '',
    ...extra,
  };
}

/** What one clean run of the operation looked like: where a fault can land. */
interface Calibration {
  bytesUp: number;
  bytesDown: number;
  progressLines: number;
  durationMs: number;
}

/** A process fault's trigger, uniform over the calibrated run: bytes through the proxy, a progress line, or a delay. */
function pickTrigger(random: SeededRandom, proxy: FaultProxy | undefined, calibration: Calibration): Trigger {
  const roll = random.next();
  const bytes = calibration.bytesUp + calibration.bytesDown;
  if (proxy !== undefined && bytes > 0 && roll < 0.4) return { kind: 'bytes', bytes: random.integer(1, bytes), proxy };
  if (calibration.progressLines > 0 && roll < 0.75) return { kind: 'progress', lines: random.integer(1, calibration.progressLines) };
  return { kind: 'delay', ms: random.integer(0, Math.max(50, calibration.durationMs)) };
}

function pickNetworkFault(fault: Fault, random: SeededRandom, calibration: Calibration, soak: boolean): ProxyFault {
  const direction = random.pick(['up', 'down', 'both'] as const);
  const span = direction === 'up' ? calibration.bytesUp : direction === 'down' ? calibration.bytesDown : calibration.bytesUp + calibration.bytesDown;
  const afterBytes = random.integer(0, Math.max(1, span));
  switch (fault) {
    case 'net-reset':
      return { kind: 'reset', afterBytes, direction };
    case 'net-truncate':
      return { kind: 'truncate', afterBytes, direction };
    case 'net-stall':
      // A stall that never ends costs the client's whole timeout and retries (minutes): soak only.
      return { kind: 'stall', afterBytes, direction, resumeAfterMs: soak && random.next() < 0.3 ? undefined : random.integer(300, soak ? 20_000 : 4000) };
    case 'net-trickle':
      return { kind: 'trickle', afterBytes, direction, bytesPerSecond: Math.max(16 * 1024, Math.floor(Math.max(span, 1) / random.integer(2, 5))) };
    case 'net-restart':
      return { kind: 'restart', afterBytes, direction, refuseForMs: random.integer(200, 3000) };
    default:
      throw new Error(`${fault} is not a proxy fault`);
  }
}

function describeFault(fault: ProxyFault): string {
  const { onFault: _onFault, ...shown } = fault;
  return JSON.stringify(shown);
}

/** Copies of the items' source directories, to compare against once the source store may have lost them. */
async function referenceCopies(items: ExpectedItem[], root: string): Promise<ExpectedItem[]> {
  return Promise.all(
    items.map(async (item, index) => {
      const copy = path.join(root, String(index));
      await cp(item.source, copy, { recursive: true, verbatimSymlinks: true });
      return { ...item, source: copy };
    }),
  );
}

/** Run one case: prepare, run under the fault, check every invariant, re-run clean, check again. */
export async function runCase(context: HarnessContext, seeded: SeededCase): Promise<CaseRecord> {
  const started = Date.now();
  const record: CaseRecord = { id: seeded.id, operation: seeded.operation, site: seeded.site, fault: seeded.fault, seed: seeded.seed, profile: seeded.profile, injected: false, violations: [], notes: [], durationMs: 0 };
  const violate: Violate = (invariant, detail) => record.violations.push({ invariant, detail });
  const note = (line: string): void => void record.notes.push(line);
  const random = seededRandom(seeded.seed);
  const caseRoot = await makeScratchDir('fault-case');
  chmodSync(caseRoot, 0o755);
  await mkdir(path.join(caseRoot, 'tmpdir'));
  // Sticky and world-writable, as /tmp: the CLI also runs as nobody.
  chmodSync(path.join(caseRoot, 'tmpdir'), 0o1777);
  const mounts: string[] = [];
  const holders: ChildProcess[] = [];
  const hardTimeoutMs = context.hardTimeoutMs;
  const { operation, fault } = seeded;
  const transportSite: TransportSite | undefined = (context.sites.transports as Record<string, TransportSite>)[seeded.site];
  const registrySite: RegistrySite | undefined = (context.sites.registries as Record<string, RegistrySite>)[seeded.site];
  const site = (transportSite ?? registrySite) as TransportSite | RegistrySite;
  const secrets = site.secrets;
  try {
    // The sample: its name carries the seed, so cases never meet on a shared server or registry.
    const name = `fh_${seeded.seed.toString(36)}`;
    const sourceHome = path.join(caseRoot, 'source');
    const sampleOptions: SampleBentoOptions = { name, seed: seeded.seed, models: random.integer(1, 2), weightsBytes: random.integer(128, 768) * 1024, sourceFiles: random.integer(4, 14) };
    if (seeded.site === 's3' && isExportLike(operation)) {
      // Past the 8 MiB part size, so the upload is a multipart one that a fault can leave unfinished.
      sampleOptions.models = 1;
      sampleOptions.weightsBytes = random.integer(9 * 1024, 12 * 1024) * 1024;
    }
    let sample = await writeSampleBento(sourceHome, sampleOptions);
    const models = operation === 'models-export' || operation === 'models-import';
    const firstModel = sample.models[0] as { tag: string; path: string };
    const stored: ExpectedItem[] = models
      ? [{ kind: 'model', tag: firstModel.tag, source: firstModel.path }]
      : [{ kind: 'bento', tag: sample.bentoTag, source: sample.bentoPath }, ...sample.models.map((model) => ({ kind: 'model' as const, tag: model.tag, source: model.path }))];
    // A delete during the run removes the source store's copy, which the checks compare against.
    const expected = fault === 'delete-during-export' ? await referenceCopies(stored, path.join(caseRoot, 'reference')) : stored;
    const item = expected[0] as ExpectedItem;
    const group = models ? ['models'] : [];
    const extension = models ? random.pick(['tar', 'bentomodel', 'tar.gz']) : random.pick(['tar', 'tar.gz', 'bento']);
    const [itemName, itemVersion] = item.tag.split(':') as [string, string];
    const file = `${itemName}-${itemVersion}.${extension}`;
    const baseEnvironment = childEnvironment(context, caseRoot);
    const cli = (home: string, args: string[], extra: Partial<Parameters<typeof runCli>[0]> = {}): Promise<ChildResult> =>
      runCli({ args: ['--home', home, ...args], env: baseEnvironment, hardTimeoutMs, ...extra });
    const setupFailed = (what: string, result: ChildResult): CaseRecord => {
      violate('setup', `${what}: ${describeEnd(result)}`);
      return record;
    };
    if (registrySite !== undefined) {
      const transmission = configureBentoCloud(registrySite, (items) => random.pick(items));
      if (transmission !== undefined) note(`BentoCloud transmission: ${transmission}`);
    }

    // The reference archive: what a complete export writes (exports are reproducible).
    let reference: { path: string; bytes: Buffer; sha256: string } | undefined;
    if (registrySite === undefined) {
      const referencePath = path.join(caseRoot, 'reference', file);
      await mkdir(path.dirname(referencePath), { recursive: true });
      const made = await cli(sourceHome, [...group, 'export', item.tag, referencePath]);
      if (made.code !== 0) return setupFailed('the reference export', made);
      const bytes = await readFile(referencePath);
      reference = { path: referencePath, bytes, sha256: sha256(bytes) };
    }
    const size = reference?.bytes.length ?? sample.bytes;

    // Where the operation runs and what it is given.
    const target = path.join(caseRoot, 'target');
    const remoteName = `${seeded.id.replaceAll('/', '_')}-${seeded.seed}`;
    let directory: RemoteDirectory | undefined;
    let repository: RemoteRepository | undefined;
    let home: string;
    let args: string[];
    let oldBytes: Buffer | undefined;
    if (transportSite !== undefined) directory = await transportSite.directory(remoteName);
    if (registrySite !== undefined) {
      repository = await registrySite.repository(name);
      await repository.prepareHome(sourceHome);
    }
    if (isExportLike(operation)) {
      home = sourceHome;
      args = [...group, 'export', item.tag, (directory as RemoteDirectory).url(file), '--progress', 'json'];
    } else if (operation === 'push') {
      home = sourceHome;
      args = ['push', item.tag, ...(repository as RemoteRepository).args, '--progress', 'json'];
    } else if (operation === 'pull') {
      const pushed = await cli(sourceHome, ['push', item.tag, ...(repository as RemoteRepository).args]);
      if (pushed.code !== 0) return setupFailed('the push the pull reads from', pushed);
      home = target;
      args = ['pull', item.tag, ...(repository as RemoteRepository).args, '--progress', 'json'];
    } else {
      await (directory as RemoteDirectory).place(file, (reference as { path: string }).path);
      home = target;
      args = [...group, 'import', (directory as RemoteDirectory).url(file), '--progress', 'json'];
    }
    if (registrySite !== undefined && home === target) await (repository as RemoteRepository).prepareHome(target);
    const localDestination = isExportLike(operation) && seeded.site === 'fs' ? (directory as RemoteDirectory).localPath : undefined;
    const placeOld = async (): Promise<void> => {
      if (!isExportLike(operation) || random.next() >= 0.4) return;
      oldBytes = Buffer.from(`the old object at ${file}, from before this export\n`);
      const oldPath = path.join(caseRoot, 'old-object');
      await writeFile(oldPath, oldBytes);
      await (directory as RemoteDirectory).place(file, oldPath);
      note('an old object sits at the destination');
    };

    // A clean run beside the real one (another file, store or repository) shows how many
    // bytes, progress lines and milliseconds the operation takes: faults land uniformly in there.
    const proxy = site.proxy;
    let calibration: Calibration = { bytesUp: operation === 'push' ? sample.bytes : 4096, bytesDown: operation === 'push' ? 4096 : sample.bytes, progressLines: 20, durationMs: 1500 };
    if (PROCESS_FAULTS.includes(fault) || NETWORK_FAULTS.includes(fault)) {
      let calibrationHome = path.join(caseRoot, 'calibration');
      let calibrationArgs: string[] | undefined;
      if (isExportLike(operation)) {
        calibrationHome = sourceHome;
        calibrationArgs = [...group, 'export', item.tag, (directory as RemoteDirectory).url(`calibration-${file}`), '--progress', 'json'];
      } else if (operation === 'push' && seeded.site === 'oci') {
        calibrationHome = sourceHome;
        calibrationArgs = ['push', item.tag, ...(await (registrySite as RegistrySite).repository(`${name}-calibration`)).args, '--progress', 'json'];
      } else if (operation !== 'push') {
        if (registrySite !== undefined) await (repository as RemoteRepository).prepareHome(calibrationHome);
        calibrationArgs = args;
      }
      if (calibrationArgs !== undefined) {
        proxy?.reset();
        const measured = await cli(calibrationHome, calibrationArgs);
        if (measured.code !== 0) return setupFailed('the calibration run', measured);
        calibration = {
          bytesUp: proxy?.bytesUp ?? 0,
          bytesDown: proxy?.bytesDown ?? 0,
          progressLines: measured.stderr.split('\n').filter(isProgressLine).length,
          durationMs: measured.durationMs,
        };
        note(`calibration: ${calibration.bytesUp} bytes up, ${calibration.bytesDown} down, ${calibration.progressLines} progress lines, ${calibration.durationMs} ms`);
      }
    }

    // The fault.
    const action: ProcessAction | undefined = SIGNALS[fault];
    let results: { label: string; result: ChildResult; action?: ProcessAction; uid?: number }[] = [];
    let deleted = false;
    let plantedLock: string | undefined;
    let permanentlyCutOff = false;
    proxy?.reset();
    if (PROCESS_FAULTS.includes(fault)) {
      await placeOld();
      const trigger = pickTrigger(random, proxy, calibration);
      note(`${action} when ${trigger.kind === 'bytes' ? `${trigger.bytes} bytes crossed the proxy` : trigger.kind === 'progress' ? `progress line ${trigger.lines} appears` : `${trigger.ms} ms passed`}`);
      const faultArgs = fault === 'close-stdout' ? [...args, '--json'] : args;
      results.push({ label: 'faulted run', action, result: await cli(home, faultArgs, { fault: { action: action as ProcessAction, trigger } }) });
    } else if (NETWORK_FAULTS.includes(fault) && fault !== 'proxy-refused') {
      await placeOld();
      const proxyFault = pickNetworkFault(fault, random, calibration, context.soak);
      note(`proxy fault ${describeFault(proxyFault)}`);
      permanentlyCutOff = proxyFault.kind === 'stall' && proxyFault.resumeAfterMs === undefined;
      (proxy as NonNullable<typeof proxy>).inject(proxyFault);
      results.push({ label: 'faulted run', result: await cli(home, args) });
      record.injected = (proxy as NonNullable<typeof proxy>).faults > 0;
      permanentlyCutOff &&= record.injected;
      proxy?.clear();
    } else if (fault === 'proxy-refused') {
      await placeOld();
      const before = context.refusingProxy.requests.length;
      const url = context.refusingProxy.url;
      const result = await cli(home, args, { env: { ...baseEnvironment, HTTP_PROXY: url, HTTPS_PROXY: url, ALL_PROXY: url, http_proxy: url, https_proxy: url, NO_PROXY: '', no_proxy: '' } });
      const asked = context.refusingProxy.requests.length - before;
      record.injected = asked > 0;
      note(`the refusing proxy got ${asked} request(s)`);
      results.push({ label: 'faulted run', result });
      if (result.code === 0) violate('h-proxy', asked === 0 ? 'succeeded without going through HTTP(S)_PROXY: the proxy setting is ignored for this target' : 'succeeded although the proxy refused every request');
    } else if (fault === 'disk-full' || fault === 'read-only') {
      if (context.mountUnavailable !== undefined) {
        note(`skipped: ${context.mountUnavailable}`);
        return record;
      }
      const mountPoint = localDestination ?? home;
      await mkdir(mountPoint, { recursive: true });
      const readOnly = fault === 'read-only';
      const capacity = readOnly ? 4 * 1024 * 1024 : Math.floor(size * (0.1 + 0.7 * random.next()));
      mountTmpfs(mountPoint, capacity);
      mounts.push(mountPoint);
      if (localDestination === undefined) {
        for (const sub of ['bentos', 'models', 'tmp']) await mkdir(path.join(mountPoint, sub), { recursive: true });
        if (registrySite !== undefined) await (repository as RemoteRepository).prepareHome(mountPoint);
      } else {
        await placeOld();
      }
      if (readOnly) remount(mountPoint, 'ro');
      note(readOnly ? `${mountPoint} is a read-only tmpfs` : `${mountPoint} is a tmpfs of ${capacity} bytes`);
      record.injected = true;
      results.push({ label: 'faulted run', result: await cli(home, args) });
    } else if (fault === 'permission-denied') {
      if (context.otherUserUnavailable !== undefined) {
        note(`skipped: ${context.otherUserUnavailable}`);
        return record;
      }
      // Root reads and writes anything: run as nobody, with the store or destination root's own.
      const denied = localDestination ?? home;
      await mkdir(denied, { recursive: true });
      if (localDestination === undefined) for (const sub of ['bentos', 'models', 'tmp']) await mkdir(path.join(denied, sub), { recursive: true });
      else await placeOld();
      if (registrySite !== undefined && localDestination === undefined) await (repository as RemoteRepository).prepareHome(denied);
      await chmod(denied, 0o755);
      await chmod(caseRoot, 0o755);
      note(`run as uid ${NOBODY} with ${denied} owned by root (0755)`);
      record.injected = true;
      results.push({ label: 'faulted run', uid: NOBODY, result: await cli(home, args, { uid: NOBODY, gid: NOBODY }) });
    } else if (fault === 'lock-held') {
      const lockName = `${item.kind}-${itemName}`;
      plantedLock = path.join(home, 'tmp', 'bentoport-locks', lockName);
      const holder = spawn('sleep', ['120'], { stdio: 'ignore' });
      holders.push(holder);
      await mkdir(plantedLock, { recursive: true });
      await writeFile(path.join(plantedLock, 'owner.json'), JSON.stringify({ pid: holder.pid, host: hostname() }));
      const holdMs = random.integer(200, 3000);
      note(`lock ${lockName} held by live process ${holder.pid} for ${holdMs} ms`);
      setTimeout(() => holder.kill('SIGKILL'), holdMs).unref();
      record.injected = true;
      results.push({ label: 'faulted run', result: await cli(home, args) });
    } else if (fault === 'concurrent-imports') {
      const count = random.integer(2, 4);
      note(`${count} runs at once`);
      record.injected = true;
      const all = await Promise.all(Array.from({ length: count }, () => cli(home, args)));
      results = all.map((result, index) => ({ label: `concurrent run ${index + 1}`, result }));
      if (!all.some((result) => result.code === 0)) violate('g-rerun', `none of ${count} concurrent runs succeeded: ${all.map(describeEnd).join(' / ')}`);
    } else if (fault === 'delete-during-export') {
      await placeOld();
      const delayMs = random.integer(0, 1500);
      note(`${group.join(' ')} delete ${item.tag} -y after ${delayMs} ms`);
      const exporting = cli(home, args);
      await sleep(delayMs);
      const deletion = await cli(sourceHome, [...group, 'delete', item.tag, '-y']);
      const exported = await exporting;
      deleted = deletion.code === 0;
      record.injected = deletion.durationMs + delayMs < exported.durationMs;
      results.push({ label: 'faulted run', result: exported }, { label: 'the delete', result: deletion });
    }
    const faulted = results[0]?.result as ChildResult;
    if (PROCESS_FAULTS.includes(fault)) record.injected = faulted.injected;
    for (const { label, result } of results) note(`${label}: ${describeEnd(result)}`);

    // Invariants after the faulted run.
    for (const { label, result, action: given } of results) {
      const before = record.violations.length;
      checkProcess(result, { label, secrets, action: given, hardTimeoutMs }, violate);
      // A crash is only fixable with its trace: keep the head of stderr in the log.
      if (record.violations.slice(before).some((violation) => violation.invariant === 'd-exit-output')) note(`stderr of ${label}: ${messageLines(result.stderr).slice(0, 14).join(' | ').slice(0, 1500)}`);
    }
    // A process that could not clean up: killed outright (by the fault or at the harness's hard
    // timeout), or cut off from its server for good. The next run must remove what it left.
    let killed = (fault === 'sigkill' && record.injected) || results.some(({ result }) => result.timedOut) || permanentlyCutOff;
    let how = fault === 'sigkill' ? 'SIGKILL' : permanentlyCutOff ? 'a stall that never ended' : 'the hard timeout';
    const leftoversNow = async (): Promise<string[]> => {
      const found = [...(await storeLeftovers(home))];
      found.push(...(await readdir(path.join(caseRoot, 'tmpdir')).catch(() => [] as string[])).map((entry) => `$TMPDIR/${entry}`));
      if (home !== sourceHome) found.push(...(await storeLeftovers(sourceHome)));
      if (isExportLike(operation)) found.push(...(await (directory as RemoteDirectory).leftovers()));
      if (operation === 'push') found.push(...(await (repository as RemoteRepository).leftovers()));
      return found;
    };
    const leftAfterFault = await leftoversNow();
    // A push whose item was deleted under it failed on a local read: its upload session is kept
    // for a resume by design (registry-test-suite's resume check: a failed read is continued, not
    // started over), like a killed push's. The next push must remove or continue it, and say so.
    if (!killed && operation === 'push' && fault === 'delete-during-export' && faulted.code !== 0 && leftAfterFault.length > 0 && leftAfterFault.every((entry) => entry.startsWith('oci upload session'))) {
      killed = true;
      how = 'a push whose item was deleted under it (its session kept for a resume)';
    }
    if (leftAfterFault.length > 0) {
      if (killed) note(`left after ${how}: ${leftAfterFault.join(', ')}`);
      else violate('b-leftovers', `after the faulted run (${describeEnd(faulted).split(':')[0]}): ${leftAfterFault.join(', ')}`);
    }
    const checkStore = async (storeHome: string, stage: string, invariant: Invariant): Promise<string[]> => {
      const { whole, half } = await inspectItems(storeHome, expected);
      for (const entry of half) violate(invariant, `${stage}: half item in the store: ${entry}`);
      // What bentoport itself shows: nothing it lists may be other than whole.
      for (const listing of [['list', '-o', 'json'], ['models', 'list', '-o', 'json']]) {
        const listed = await cli(storeHome, listing);
        if (listed.code !== 0) {
          violate(invariant, `${stage}: '${listing.join(' ')}' failed: ${describeEnd(listed)}`);
          continue;
        }
        for (const entry of JSON.parse(listed.stdout || '[]') as { tag: string }[]) {
          if (!whole.includes(entry.tag)) violate(invariant, `${stage}: '${listing.join(' ')}' shows ${entry.tag}, which is not whole`);
        }
      }
      return whole;
    };
    const checkDestination = async (stage: string, invariant: Invariant): Promise<'absent' | 'old' | 'new' | 'partial'> => {
      const bytes = await (directory as RemoteDirectory).read(file);
      const state = bytes === undefined ? 'absent' : oldBytes !== undefined && bytes.equals(oldBytes) ? 'old' : sha256(bytes) === reference?.sha256 ? 'new' : 'partial';
      if (state === 'partial') violate(invariant, `${stage}: the destination holds ${bytes?.length} bytes that are neither the old object nor the complete new one (${reference?.bytes.length} bytes)`);
      if (state === 'absent' && oldBytes !== undefined) violate(invariant, `${stage}: the old object is gone and no new one replaced it`);
      return state;
    };
    /** Pull into a fresh store, as the next user of the registry would, and check what arrives. */
    const probeRegistry = async (stage: string, invariant: Invariant): Promise<boolean> => {
      const probeHome = path.join(caseRoot, `probe-${stage.replace(/\W+/g, '-')}`);
      await (repository as RemoteRepository).prepareHome(probeHome);
      const pulled = await cli(probeHome, ['pull', item.tag, ...(repository as RemoteRepository).args]);
      checkProcess(pulled, { label: `${stage}: probe pull`, secrets, hardTimeoutMs }, violate);
      if (pulled.code !== 0) {
        if (/digest|corrupt|mismatch|truncat|incomplete|unexpected end/i.test(pulled.stderr)) violate(invariant, `${stage}: the registry shows a partial ${item.tag}: ${describeEnd(pulled)}`);
        return false;
      }
      const whole = await checkStore(probeHome, `${stage}: probe pull`, invariant);
      return whole.includes(item.tag);
    };
    if (isImportLike(operation)) await checkStore(home, 'after the faulted run', 'a-store-whole');
    else if (isExportLike(operation)) await checkDestination('after the faulted run', 'c-destination');
    else if (operation === 'push') await probeRegistry('after the faulted run', 'c-destination');
    if (!deleted && (isExportLike(operation) || operation === 'push')) {
      const { half } = await inspectItems(sourceHome, expected);
      for (const entry of half) violate('a-store-whole', `the source store changed under an export: ${entry}`);
    }

    // Take the fault away and run the same operation again.
    for (const mountPoint of mounts) {
      if (fault === 'read-only') remount(mountPoint, 'rw');
      else remount(mountPoint, 'size=512m');
    }
    for (const holder of holders) holder.kill('SIGKILL');
    // A server restart may still be refusing connections: the re-run is meant to find it back.
    await proxy?.ready();
    if (deleted) sample = await writeSampleBento(sourceHome, sampleOptions);
    const rerun = await cli(home, args);
    note(`clean re-run: ${describeEnd(rerun)}`);
    checkProcess(rerun, { label: 'clean re-run', secrets, hardTimeoutMs }, violate);
    const alreadyThere = rerun.code === 1 && /already exists/i.test(rerun.stderr);
    if (rerun.code !== 0 && !alreadyThere) violate('g-rerun', `the clean re-run failed: ${describeEnd(rerun)}`);
    if (isImportLike(operation)) {
      const whole = await checkStore(home, 'after the clean re-run', 'g-rerun');
      const missing = expected.filter((entry) => !whole.includes(entry.tag)).map((entry) => entry.tag);
      if (missing.length > 0) violate('g-rerun', `after the clean re-run the store lacks ${missing.join(', ')}`);
    } else if (isExportLike(operation)) {
      const state = await checkDestination('after the clean re-run', 'g-rerun');
      if (state !== 'new') violate('g-rerun', `after the clean re-run the destination is ${state}, not the complete archive`);
    } else if (operation === 'push') {
      if (!(await probeRegistry('after the clean re-run', 'g-rerun'))) violate('g-rerun', `after the clean re-run a pull of ${item.tag} does not give it whole`);
    }
    const leftAfterRerun = await leftoversNow();
    const leftByTheFault = leftAfterRerun.filter((entry) => leftAfterFault.includes(entry));
    const leftByTheRerun = leftAfterRerun.filter((entry) => !leftAfterFault.includes(entry));
    if (leftByTheRerun.length > 0) violate('b-leftovers', `after the clean re-run: ${leftByTheRerun.join(', ')}`);
    if (!killed && leftByTheFault.length > 0) violate('b-leftovers', `the clean re-run did not remove what the faulted run left: ${leftByTheFault.join(', ')}`);
    if (killed && leftAfterFault.length > 0) {
      if (leftByTheFault.length > 0) violate('b-leftovers', `after ${how}, the next run did not remove: ${leftByTheFault.join(', ')}`);
      else if (!SAYS_IT_CLEANED.test(rerun.stderr + rerun.stdout)) violate('b-leftovers', `after ${how}, the next run removed ${leftAfterFault.length} leftover(s) without saying so`);
    }
    if (plantedLock !== undefined) note(`planted lock ${plantedLock} handled`);
    return record;
  } catch (error) {
    violate('setup', `the harness failed: ${(error as Error).stack?.split('\n').slice(0, 3).join(' ') ?? String(error)}`);
    return record;
  } finally {
    for (const holder of holders) holder.kill('SIGKILL');
    for (const mountPoint of mounts.reverse()) unmount(mountPoint);
    record.durationMs = Date.now() - started;
    if (process.env.FAULT_KEEP !== '1') await rm(caseRoot, { recursive: true, force: true }).catch(() => undefined);
    else record.notes.push(`kept ${caseRoot}`);
  }
}
