import { completeCommandLine, formatCompletionReply, type CompletionStore } from './completion.js';

/**
 * The store's tags through core's own reading of it (its layout, and which version directories
 * count), loaded only when a tag is asked for: the commands and flags need no engine.
 */
const localStore: CompletionStore = {
  async tags(group, home) {
    const { defaultHome, formatTag, openItemStore } = await import('@bentoport/core');
    const items = await openItemStore(home ?? defaultHome(process.env), group === 'models' ? 'model' : 'bento').list();
    return items.map((item) => formatTag(item.tag));
  },
};

/**
 * `bentoport __complete WORD…`, which the completion scripts call on every TAB: print the
 * candidates for the last WORD, one a line. Any failure (no store, an unreadable one, a closed
 * pipe) prints nothing and exits 0: a completion must never write an error into the user's
 * prompt, and the shell then simply offers nothing.
 */
export async function runCompletionRequest(words: readonly string[]): Promise<void> {
  process.exitCode = 0;
  process.stdout.on('error', () => {});
  let output = '';
  try {
    output = formatCompletionReply(await completeCommandLine(words, { store: localStore, cwd: process.cwd() }));
  } catch {
    return;
  }
  // One write of the whole reply: a failure halfway leaves no half-list behind.
  process.stdout.write(output);
}
