import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BentoportError, type ArchiveEntry, type Registry, type RegistryListing } from '@bentoport/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkContext, namePrefix, type CheckContext } from './check-context.js';
import {
  checkAuthHas,
  checkAuthPull,
  checkBentoRoundTrip,
  checkDedup,
  checkHasMissing,
  checkLatest,
  checkAuthListItems,
  checkList,
  checkListItems,
  checkListItemsAborted,
  checkModelRoundTrip,
  checkPullAbortedSignal,
  checkPullMissing,
  checkPullSignalMidBody,
  checkPushAbortedSignal,
  checkPushSignalMidUpload,
  checkResume,
  checkShape,
} from './checks/index.js';
import { memoryRegistry } from './memory-registry/memory-registry.js';

// The suite is only worth running if it can fail: each case breaks one sentence of the contract
// in the reference registry and expects the matching check to throw, naming the fault.

let scratch = '';
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'bentoport-broken-registries-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

function contextFor(registry: Registry, badCredentials?: Registry, secrets: string[] = []): CheckContext {
  return checkContext(registry, badCredentials, secrets, scratch, namePrefix());
}

/** The reference registry with some members replaced. */
function broken(override: (base: Registry) => Partial<Registry>, base = memoryRegistry()): Registry {
  return { ...base, ...override(base) };
}

/** A pull whose entries pass through `rewrite`. */
function rewritingPull(rewrite: (entries: AsyncIterable<ArchiveEntry>) => AsyncIterable<ArchiveEntry>): Registry {
  return broken((base) => ({ pull: (ref, options) => rewrite(base.pull(ref, options)) }));
}

describe('the checks fail a broken registry', () => {
  it('shape: no url', async () => {
    await expect(checkShape(contextFor(broken(() => ({ url: '' }))))).rejects.toThrow(/url must be a non-empty string/);
  });

  it('has: ERR_NOT_FOUND instead of false for a missing version', async () => {
    const registry = broken((base) => ({
      has: async (ref, options) => {
        if (await base.has(ref, options)) return true;
        throw new BentoportError('ERR_NOT_FOUND', 'no such version');
      },
    }));
    await expect(checkHasMissing(contextFor(registry))).rejects.toThrow(/no such version/);
  });

  it('not found: pull throws at once instead of from the first next()', async () => {
    const registry = broken(() => ({
      pull: () => {
        throw new BentoportError('ERR_NOT_FOUND', 'missing');
      },
    }));
    await expect(checkPullMissing(contextFor(registry))).rejects.toThrow(/threw at once/);
  });

  it('not found: pull of a missing version yields nothing instead of failing', async () => {
    const registry = rewritingPull(async function* (entries) {
      try {
        yield* entries;
      } catch {
        // swallowed: an empty item
      }
    });
    await expect(checkPullMissing(contextFor(registry))).rejects.toThrow(/succeeded, but the contract says it rejects with ERR_NOT_FOUND/);
  });

  it('round trip: pull drops directories', async () => {
    const registry = rewritingPull(async function* (entries) {
      for await (const entry of entries) if (entry.type !== 'directory') yield entry;
    });
    await expect(checkModelRoundTrip(contextFor(registry))).rejects.toThrow(/lost assets, assets\/empty-dir/);
  });

  it('round trip: pull turns symlinks into files', async () => {
    const registry = rewritingPull(async function* (entries) {
      for await (const entry of entries) yield entry.type === 'symlink' ? { ...entry, type: 'file', linkTarget: undefined } : entry;
    });
    await expect(checkBentoRoundTrip(contextFor(registry))).rejects.toThrow(/symlink src\/entry.py came back as a file/);
  });

  it('round trip: pull loses the executable bit', async () => {
    const registry = rewritingPull(async function* (entries) {
      for await (const entry of entries) yield entry.type === 'file' ? { ...entry, mode: 0o644 } : entry;
    });
    await expect(checkModelRoundTrip(contextFor(registry))).rejects.toThrow(/file assets\/run.sh: mode 0o644, pushed 0o755/);
  });

  it('dedup: declared, but everything is sent again', async () => {
    const base = memoryRegistry({ capabilities: { dedup: false } });
    const registry = { ...base, capabilities: { ...base.capabilities, dedup: true } };
    await expect(checkDedup(contextFor(registry))).rejects.toThrow(/again sent \d+ bytes/);
  });

  it('dedup: bytesUploaded is always 0, so it says nothing', async () => {
    const registry = broken((base) => ({ push: async (item, options) => ({ ...(await base.push(item, options)), bytesUploaded: 0 }) }));
    await expect(checkDedup(contextFor(registry))).rejects.toThrow(/reports 0 bytes sent of \d+ bytes of content/);
  });

  describe('abort: the signal is ignored', () => {
    const ignoring = broken((base) => ({
      push: (item, options) => base.push(item, { ...options, signal: undefined }),
      pull: (ref, options) => base.pull(ref, { ...options, signal: undefined }),
    }));

    it('by push, when it has already fired', async () => {
      await expect(checkPushAbortedSignal(contextFor(ignoring))).rejects.toThrow(/succeeded, but the contract says it rejects with ERR_ABORTED/);
    });

    it('by push, when it fires mid-upload', async () => {
      await expect(checkPushSignalMidUpload(contextFor(ignoring))).rejects.toThrow(/resolved: the signal was ignored/);
    });

    it('by pull, when it has already fired', async () => {
      await expect(checkPullAbortedSignal(contextFor(ignoring))).rejects.toThrow(/succeeded, but the contract says it rejects with ERR_ABORTED/);
    });

    it('by pull, when it fires mid-body', async () => {
      await expect(checkPullSignalMidBody(contextFor(ignoring))).rejects.toThrow(/completed: the signal was ignored/);
    });
  });

  it('abort: an aborted push leaves its version visible', async () => {
    const registry = broken((base) => ({
      push: async (item, options) => {
        try {
          return await base.push(item, options);
        } catch (error) {
          await base.push(item);
          throw error;
        }
      },
    }));
    await expect(checkPushSignalMidUpload(contextFor(registry))).rejects.toThrow(/is true after its push was aborted/);
  });

  it('abort: an aborted push rejects with ERR_IO', async () => {
    const registry = broken((base) => ({
      push: (item, options) =>
        base.push(item, options).catch((error: unknown) => {
          throw new BentoportError('ERR_IO', 'connection closed', { cause: error });
        }),
    }));
    await expect(checkPushSignalMidUpload(contextFor(registry))).rejects.toThrow(/BentoportError ERR_IO: connection closed, but the contract says ERR_ABORTED/);
  });

  it('auth: refused credentials answer false', async () => {
    const refusing = broken(() => ({ has: async () => false }), memoryRegistry({ acceptedCredentials: 'right', credentials: 'wrong' }));
    await expect(checkAuthHas(contextFor(memoryRegistry(), refusing))).rejects.toThrow(/succeeded, but the contract says it rejects with ERR_AUTH/);
  });

  it('auth: the message shows the password', async () => {
    const refusing = broken(
      (base) => ({
        pull: (ref, options) =>
          (async function* () {
            try {
              yield* base.pull(ref, options);
            } catch (error) {
              throw new BentoportError('ERR_AUTH', `${(error as Error).message} (sent password wrong-password)`);
            }
          })(),
      }),
      memoryRegistry({ acceptedCredentials: 'right', credentials: 'wrong-password' }),
    );
    await expect(checkAuthPull(contextFor(memoryRegistry(), refusing, ['wrong-password']))).rejects.toThrow(/the message shows a secret/);
  });

  it('list: an empty array for a name never pushed', async () => {
    const registry = broken((base) => ({ list: async (kind, name, options) => base.list!(kind, name, options).catch(() => []) }));
    await expect(checkList(contextFor(registry))).rejects.toThrow(/succeeded, but the contract says it rejects with ERR_NOT_FOUND/);
  });

  it('list: only the latest version', async () => {
    const registry = broken((base) => ({ list: async (kind, name, options) => (await base.list!(kind, name, options)).slice(-1) }));
    await expect(checkList(contextFor(registry))).rejects.toThrow(/expected the two pushed versions/);
  });

  it('latest: the version pushed first, not the one created last', async () => {
    const registry = broken((base) => ({ latest: async (kind, name, options) => (await base.list!(kind, name, options))[0] as string }));
    await expect(checkLatest(contextFor(registry))).rejects.toThrow(/expected the version created last/);
  });

  it('latest: a made-up version for a name never pushed', async () => {
    const registry = broken((base) => ({ latest: async (kind, name, options) => base.latest!(kind, name, options).catch(() => 'v1') }));
    await expect(checkLatest(contextFor(registry))).rejects.toThrow(/succeeded, but the contract says it rejects with ERR_NOT_FOUND/);
  });

  it('shape: latestVersion declared without latest', async () => {
    const registry = broken(() => ({ latest: undefined }));
    await expect(checkShape(contextFor(registry))).rejects.toThrow(/latest must be a function/);
  });

  it('list items: ERR_NOT_FOUND instead of an empty array for a name never pushed', async () => {
    const registry = broken((base) => ({
      listItems: async (kind, options) => {
        const items = await base.listItems!(kind, options);
        if (items.length === 0) throw new BentoportError('ERR_NOT_FOUND', 'no such name');
        return items;
      },
    }));
    await expect(checkListItems(contextFor(registry))).rejects.toThrow(/no such name/);
  });

  it('list items: the name filter ignored', async () => {
    const registry = broken((base) => ({ listItems: async (kind, options) => base.listItems!(kind, { ...options, name: undefined }) }));
    await expect(checkListItems(contextFor(registry))).rejects.toThrow(/expected the two complete versions/);
  });

  it('list items: an item whose push was aborted is listed', async () => {
    const base = memoryRegistry();
    const started: RegistryListing[] = [];
    const registry: Registry = {
      ...base,
      push: async (item, options) => {
        // Recorded before the upload, as a registry that announces a version when its push starts.
        started.push({ ...item.ref });
        return base.push(item, options);
      },
      listItems: async (kind, options) => {
        const complete = await base.listItems!(kind, options);
        const unfinished = started.filter((ref) => ref.kind === kind && (options?.name === undefined || ref.name === options.name) && !complete.some((item) => item.version === ref.version && item.name === ref.name));
        return [...complete, ...unfinished];
      },
    };
    await expect(checkListItems(contextFor(registry))).rejects.toThrow(/expected the two complete versions/);
  });

  it('list items: creation time in milliseconds, not microseconds', async () => {
    const registry = broken((base) => ({
      listItems: async (kind, options) => (await base.listItems!(kind, options)).map((item) => ({ ...item, creationTime: Math.floor((item.creationTime ?? 0) / 1000) })),
    }));
    await expect(checkListItems(contextFor(registry))).rejects.toThrow(/creationTime is \d+, expected the item's creation time in microseconds/);
  });

  it('list items: a bento listed without one of its models', async () => {
    const registry = broken((base) => ({ listItems: async (kind, options) => (await base.listItems!(kind, options)).map((item) => (item.models ? { ...item, models: item.models.slice(1) } : item)) }));
    await expect(checkListItems(contextFor(registry))).rejects.toThrow(/models are \[\], the pushed bento references/);
  });

  it('list items: an aborted signal ignored', async () => {
    const registry = broken((base) => ({ listItems: async (kind, options) => base.listItems!(kind, { ...options, signal: undefined }) }));
    await expect(checkListItemsAborted(contextFor(registry))).rejects.toThrow(/succeeded, but the contract says it rejects with ERR_ABORTED/);
  });

  it('list items: refused credentials give an empty listing', async () => {
    const refusing = broken((base) => ({ listItems: async (kind, options) => base.listItems!(kind, options).catch(() => []) }), memoryRegistry({ acceptedCredentials: 'right', credentials: 'wrong' }));
    await expect(checkAuthListItems(contextFor(memoryRegistry(), refusing))).rejects.toThrow(/succeeded, but the contract says it rejects with ERR_AUTH/);
  });

  it('shape: listItems declared without listItems', async () => {
    await expect(checkShape(contextFor(broken(() => ({ listItems: undefined }))))).rejects.toThrow(/listItems must be a function/);
  });

  it('resume: declared, but an interrupted upload starts over', async () => {
    const base = memoryRegistry({ capabilities: { resumableUploads: false } });
    const registry = { ...base, capabilities: { ...base.capabilities, resumableUploads: true } };
    await expect(checkResume(contextFor(registry))).rejects.toThrow(/started over instead of resuming/);
  });
});
