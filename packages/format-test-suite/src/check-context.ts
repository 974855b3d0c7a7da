import type { Format } from '@bentoport/spec';
import { encodeToBytes } from './archive-io.js';
import { entriesOf, fullTree, plainTree } from './sample-tree.js';

/** The sample archives that checks about decoding share: encoded once per token, not once per check. */
export type SampleKind = 'plain' | 'full';

/** What every conformance check receives. */
export interface CheckContext {
  readonly format: Format;
  /** The format token under test; format-wide checks get the first token tested. */
  readonly token: string;
  /** Every token under test. */
  readonly tokens: readonly string[];
  /** Bytes the encoder may read ahead of its consumer beyond the suite's own allowance (see `FormatSuiteOptions.readAheadBytes`). */
  readonly readAheadBytes: number;
  /**
   * The sample tree (`plainTree()` or `fullTree(capabilities)`) encoded with `token`, shared by the
   * checks of one suite run so a slow codec encodes it once.
   */
  archive(kind: SampleKind, token?: string): Promise<Buffer>;
}

/** Contexts for one format whose sample archives are encoded once and shared. */
export function checkContexts(format: Format, tokens: readonly string[], readAheadBytes: number): (token: string) => CheckContext {
  const archives = new Map<string, Promise<Buffer>>();
  return function contextFor(token: string): CheckContext {
    const context: CheckContext = {
      format,
      token,
      tokens,
      readAheadBytes,
      archive(kind, archiveToken = token) {
        const key = `${archiveToken}\0${kind}`;
        let archive = archives.get(key);
        if (archive === undefined) {
          const sample = kind === 'plain' ? plainTree() : fullTree(format.capabilities);
          archive = encodeToBytes({ ...context, token: archiveToken }, entriesOf(sample));
          // Keep a failure for every check that asks, but do not let it go unhandled meanwhile.
          archive.catch(() => {});
          archives.set(key, archive);
        }
        return archive;
      },
    };
    return context;
  };
}
