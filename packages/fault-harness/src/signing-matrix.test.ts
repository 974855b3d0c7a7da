/**
 * Issue 19's done-when, end to end through the CLI: a signed bento exported to every format over
 * every transport whose server the tests start, and pushed to OCI, verifies on the other side;
 * a flipped byte in a weight file, a renamed file, a swapped model and a key that
 * allowed_signers does not list are each refused with one line naming the expected principal
 * and what was found, and leave the receiving store unchanged. A signature policy decides the
 * same by source.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hasSshKeygen, makeSigningKeys, writeSampleBento, type SampleBento } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type ChildResult } from './cli-child.js';
import { closeContext, createContext, siteInputs, siteSkips } from './harness-context.js';
import { childEnvironment, type HarnessContext } from './run-case.js';
import { TRANSPORTS as TRANSPORTS_WITH_SERVERS } from './cases.js';

const inputs = siteInputs();
const skips = siteSkips(inputs);
/** Every archive format, by the file name that picks it (.bento is BentoML's xz tar). */
const ARCHIVES = ['svc.bento', 'svc.tar', 'svc.tar.gz', 'svc.zip', 'svc.tar.bz2'];
const PRINCIPAL = 'ci@example.com';

let context: HarnessContext | undefined;
let root = '';
let source = '';
let sample: SampleBento;
let key = '';
let strangerKey = '';
let allowedSigners = '';

function cli(home: string, args: string[]): Promise<ChildResult> {
  return runCli({ args: ['--home', home, ...args], env: childEnvironment(context as HarnessContext, root), hardTimeoutMs: 120_000 });
}

async function succeeds(home: string, args: string[]): Promise<ChildResult> {
  const result = await cli(home, args);
  expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result;
}

/** The one error line of a refused run (exit 1). */
async function refusal(home: string, args: string[]): Promise<string> {
  const result = await cli(home, args);
  expect(result.code, `${args.join(' ')} should be refused: ${result.stdout}`).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0] as string;
}

/** The items a store holds (`bentos/<name>/<version>`, `models/…`), with their signature files. */
async function storeEntries(home: string): Promise<string[]> {
  const found: string[] = [];
  for (const kind of ['bentos', 'models']) {
    const names = await readdir(path.join(home, kind)).catch(() => []);
    for (const name of names) for (const entry of await readdir(path.join(home, kind, name))) found.push(`${kind}/${name}/${entry}`);
  }
  return found;
}

const requireFlags = () => ['--require-signature', '--allowed-signers', allowedSigners, '--principal', PRINCIPAL];

beforeAll(async () => {
  if (!hasSshKeygen) return;
  context = await createContext(inputs, false);
  root = path.join(context.userHome, '..', 'signing-matrix');
  await mkdir(path.join(root, 'tmpdir'), { recursive: true });
  source = path.join(root, 'source');
  sample = await writeSampleBento(source, { name: 'svc', models: 2, weightsBytes: 256 * 1024 });
  ({ key, strangerKey, allowedSigners } = await makeSigningKeys(root, PRINCIPAL));
  await succeeds(source, ['sign', sample.bentoTag, '--key', key]);
}, 180_000);

afterAll(async () => closeContext(context));

describe.skipIf(!hasSshKeygen)('a signed bento across every format, transport and registry', () => {
  for (const site of TRANSPORTS_WITH_SERVERS) {
    it.skipIf(skips[site] !== undefined)(`${site}: every archive format carries its .sig and verifies on the other side`, { timeout: 300_000 }, async () => {
      const directory = await (context as HarnessContext).sites.transports[site].directory(`signed-${site}`);
      for (const [index, archive] of ARCHIVES.entries()) {
        const url = directory.url(archive);
        await succeeds(source, ['export', sample.bentoTag, url]);
        expect(await directory.read(`${archive}.sig`), `${site} ${archive}.sig`).toBeDefined();
        const verified = await succeeds(source, ['verify', url, '--allowed-signers', allowedSigners, '--principal', PRINCIPAL]);
        expect(verified.stdout).toContain(`verified: signed by ${PRINCIPAL}`);
        // One import per format somewhere: each transport takes the next format in turn.
        if (index === TRANSPORTS_WITH_SERVERS.indexOf(site) % ARCHIVES.length) {
          const target = path.join(root, `import-${site}-${index}`);
          await succeeds(target, ['import', url, ...requireFlags()]);
          expect(await storeEntries(target)).toContain(`bentos/svc/${sample.bentoTag.split(':')[1]}.bentoport.sig`);
        }
      }
    });
  }

  it('folder: the export writes <folder>.sig, which verify and import check', { timeout: 120_000 }, async () => {
    const folder = path.join(root, 'exported-folder');
    await succeeds(source, ['export', sample.bentoTag, folder, '--format', 'folder']);
    expect(await readFile(`${folder}.sig`, 'utf8')).toContain('-----BEGIN SSH SIGNATURE-----');
    await succeeds(source, ['verify', folder, '--format', 'folder', '--allowed-signers', allowedSigners]);
    const target = path.join(root, 'import-folder');
    await succeeds(target, ['import', folder, '--format', 'folder', ...requireFlags()]);
  });

  it.skipIf(skips.oci !== undefined)('oci: a push attaches the signature, a pull requires and verifies it, by flags or by policy', { timeout: 180_000 }, async () => {
    const repository = await (context as HarnessContext).sites.registries.oci.repository('signed');
    await succeeds(source, ['push', sample.bentoTag, ...repository.args]);
    await succeeds(path.join(root, 'pull-flags'), ['pull', sample.bentoTag, ...repository.args, ...requireFlags()]);
    const registryUrl = repository.args[repository.args.indexOf('--registry') + 1] as string;
    const policy = path.join(root, 'pull-policy.yaml');
    await writeFile(policy, `default: reject\nsources:\n  ${JSON.stringify(registryUrl)}:\n    signedBy: { allowedSigners: ${JSON.stringify(allowedSigners)}, principals: [${PRINCIPAL}] }\n`);
    const pulled = await succeeds(path.join(root, 'pull-policy'), ['pull', sample.bentoTag, ...repository.args, '--policy', policy]);
    expect(pulled.stderr).not.toContain('Error');
  });
});

describe.skipIf(!hasSshKeygen)('refusals: the receiving store stays unchanged', () => {
  /** Export the source as it now is (its stored signature travels along) and try it three ways. */
  async function refusedEverywhere(name: string): Promise<string[]> {
    const archive = path.join(root, `${name}.tar`);
    await succeeds(source, ['export', sample.bentoTag, archive]);
    const target = path.join(root, `refused-${name}`);
    const messages = [
      await refusal(target, ['verify', archive, '--allowed-signers', allowedSigners, '--principal', PRINCIPAL]),
      await refusal(target, ['import', archive, ...requireFlags()]),
    ];
    expect(await storeEntries(target), name).toEqual([]);
    expect((await readdir(path.join(target, 'tmp')).catch(() => [])).filter((entry) => entry.startsWith('bentoport-staging')), name).toEqual([]);
    return messages;
  }

  it('a flipped byte in a weight file', { timeout: 120_000 }, async () => {
    const weights = path.join(sample.models[1]?.path as string, 'saved_model.bin');
    const original = await readFile(weights);
    const flipped = Buffer.from(original);
    flipped[1000] = (flipped[1000] as number) ^ 1;
    await writeFile(weights, flipped);
    try {
      for (const message of await refusedEverywhere('flipped')) {
        expect(message).toContain(`content differs from what ${PRINCIPAL}`);
        expect(message).toContain(`model ${sample.models[1]?.tag}: "saved_model.bin": its content differs (SHA-256)`);
      }
    } finally {
      await writeFile(weights, original);
    }
  });

  it('a renamed file', { timeout: 120_000 }, async () => {
    const readme = path.join(sample.bentoPath, 'README.md');
    await rename(readme, path.join(sample.bentoPath, 'README.txt'));
    try {
      for (const message of await refusedEverywhere('renamed')) expect(message).toContain(`bento ${sample.bentoTag}: "README.md" is signed but missing`);
    } finally {
      await rename(path.join(sample.bentoPath, 'README.txt'), readme);
    }
  });

  it('a swapped model (other weights under the same tag)', { timeout: 120_000 }, async () => {
    const weights = path.join(sample.models[0]?.path as string, 'saved_model.bin');
    const original = await readFile(weights);
    await writeFile(weights, await readFile(path.join(sample.models[1]?.path as string, 'saved_model.bin')).then((other) => Buffer.concat([other, Buffer.from('swapped')])));
    try {
      for (const message of await refusedEverywhere('swapped')) expect(message).toContain(`model ${sample.models[0]?.tag}: "saved_model.bin": its size is`);
    } finally {
      await writeFile(weights, original);
    }
  });

  it('a key allowed_signers does not list, and a source the policy rejects', { timeout: 120_000 }, async () => {
    await succeeds(source, ['sign', sample.bentoTag, '--key', strangerKey]);
    try {
      for (const message of await refusedEverywhere('stranger')) {
        expect(message).toContain('unknown key');
        expect(message).toContain(`expected principal "${PRINCIPAL}"`);
      }
    } finally {
      await succeeds(source, ['sign', sample.bentoTag, '--key', key]);
    }
    const archive = path.join(root, 'policy-drop', 'svc.tar');
    await mkdir(path.dirname(archive), { recursive: true });
    await succeeds(source, ['export', sample.bentoTag, archive]);
    const policy = path.join(root, 'policy.yaml');
    await writeFile(policy, `default: reject\nsources:\n  ${JSON.stringify(path.join(root, 'trusted'))}:\n    signedBy: { allowedSigners: ${JSON.stringify(allowedSigners)} }\n`);
    const target = path.join(root, 'refused-policy');
    const message = await refusal(target, ['import', archive, '--policy', policy]);
    expect(message).toContain(`${archive} is refused by signature policy ${policy}, default (reject)`);
    expect(await storeEntries(target)).toEqual([]);
  });
});
