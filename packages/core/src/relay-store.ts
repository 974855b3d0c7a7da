import type { EngineContext } from './engine-context.js';
import { openItemStore } from './item-store.js';
import { createStagingDirectory, removeStagingDirectory, sweepStaleStaging } from './staging.js';

/**
 * A store of a sync's own, for items a registry must push that the local store does not hold.
 *
 * A registry plugin pushes from an item's directory in a store (OCI keys its digest cache on it,
 * BentoCloud reads the README beside the content), so an item coming from a remote store or from
 * another registry is first received here, verified through the one import pipeline, then pushed
 * from here. It is never the user's store: it lives in the local store's staging area
 * (`$BENTOML_HOME/tmp/bentoport-staging-<pid>-…`), is created on first use, holds the items of
 * one sync (a bento's models stay until its bento is pushed), and is removed when the sync ends;
 * after a kill, the next run's staging sweep removes it as it removes an import's staging.
 */
export interface RelayStore {
  /** The relay as a store context (created on first call), for receiving into and pushing from. */
  context(): Promise<EngineContext>;
  /** Remove the relay and all it holds. Never throws. */
  remove(): Promise<void>;
}

export function relayStore(context: EngineContext): RelayStore {
  let created: Promise<EngineContext> | undefined;

  async function create(): Promise<EngineContext> {
    await sweepStaleStaging(context.home);
    const home = await createStagingDirectory(context.home, []);
    // The relay's own imports report nothing to the instance: the sync reports each item itself.
    return { ...context, home, bentos: openItemStore(home, 'bento'), models: openItemStore(home, 'model'), onProgress: undefined };
  }

  return {
    context() {
      created ??= create();
      return created;
    },
    async remove() {
      if (!created) return;
      const relay = await created.catch(() => undefined);
      created = undefined;
      if (relay) await removeStagingDirectory(relay.home).catch(() => undefined);
    },
  };
}
