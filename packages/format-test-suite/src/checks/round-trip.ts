import { decodeToRecords, encodeToBytes, expectSameEntries } from '../archive-io.js';
import type { CheckContext } from '../check-context.js';
import { entriesOf, hardlinkTree, pathTree, plainTree, recordsOf, symlinkTree, type SampleEntry } from '../sample-tree.js';

async function expectRoundTrip(context: CheckContext, sample: SampleEntry[], what: string, archive?: Promise<Buffer>): Promise<void> {
  const bytes = await (archive ?? encodeToBytes(context, entriesOf(sample)));
  const decoded = await decodeToRecords(context, bytes);
  expectSameEntries(decoded, recordsOf(sample), `${what} after encode + decode (${context.token})`);
}

/** Files (also empty), directories (also empty, nested and last), modes 0400–0755 and varied mtimes come back exactly, in order. */
export async function checkRoundTripPlain(context: CheckContext): Promise<void> {
  await expectRoundTrip(context, plainTree(), 'the plain tree', context.archive('plain'));
}

/** Paths of exactly 100 bytes, with a 154-byte name and of more than 300 bytes, and 2- to 4-byte UTF-8, come back exactly. */
export async function checkRoundTripPaths(context: CheckContext): Promise<void> {
  await expectRoundTrip(context, pathTree(), 'the long and non-ASCII paths');
}

/** Symlinks (relative, to a parent, dangling, to a directory) come back as symlinks with their targets. */
export async function checkRoundTripSymlinks(context: CheckContext): Promise<void> {
  await expectRoundTrip(context, symlinkTree(), 'the symlinks');
}

/** Hard links come back as hard links naming the archive path of their file. */
export async function checkRoundTripHardlinks(context: CheckContext): Promise<void> {
  await expectRoundTrip(context, hardlinkTree(), 'the hard links');
}

/** An archive of no entries encodes and decodes to no entries. */
export async function checkRoundTripEmpty(context: CheckContext): Promise<void> {
  await expectRoundTrip(context, [], 'an empty entry list');
}

/**
 * "A decoder's next entry is produced only after this body was consumed (or, if never opened,
 * skipped)": decoding without opening a single body still yields every entry, with right sizes.
 */
export async function checkUnopenedBodiesSkipped(context: CheckContext): Promise<void> {
  const decoded = await decodeToRecords(context, await context.archive('plain'), { openBodies: false });
  expectSameEntries(decoded, recordsOf(plainTree()), `the plain tree decoded without opening any body (${context.token})`);
}
