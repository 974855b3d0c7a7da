import type { FormatCapabilities } from '@bentoport/spec';
import type { CheckContext } from '../check-context.js';
import { checkDecodeAbortedSignal, checkDecodeSignalMidBody, checkDecodeSignalStalledSource, checkEncodeAbortedSignal, checkEncodeSignalMidStream } from './abort.js';
import { checkEncoderBackpressure } from './backpressure.js';
import { checkByteFlips, checkGarbage, checkTruncated } from './damaged-input.js';
import { checkBodyErrorFailsOutput, checkEntriesErrorFailsOutput } from './encode-errors.js';
import { checkHugeEntry } from './huge-entry.js';
import { checkIndependentBodies } from './independent-bodies.js';
import { checkRandomAccessDecode, checkStreamingDecode } from './random-access.js';
import { checkReproducible } from './reproducible.js';
import {
  checkRoundTripEmpty,
  checkRoundTripHardlinks,
  checkRoundTripPaths,
  checkRoundTripPlain,
  checkRoundTripSymlinks,
  checkUnopenedBodiesSkipped,
} from './round-trip.js';
import { checkShape } from './shape.js';
import { checkSniffOwnOutput, checkSniffRejectsForeignMagic, checkSniffRejectsNoise } from './sniff.js';
import { checkDecodeUnknownToken, checkEncodeUnknownToken } from './unsupported-format.js';

export * from './abort.js';
export * from './backpressure.js';
export * from './damaged-input.js';
export * from './encode-errors.js';
export * from './huge-entry.js';
export * from './independent-bodies.js';
export * from './random-access.js';
export * from './reproducible.js';
export * from './round-trip.js';
export * from './shape.js';
export * from './sniff.js';
export * from './unsupported-format.js';

/** One conformance check: a plain async function that throws when the format breaks the contract. */
export interface FormatCheck {
  /** Stable name, for `FormatSuiteOptions.skip`: `abort/decode-stalled-source`. */
  readonly id: string;
  readonly group: string;
  readonly title: string;
  /** `format`: runs once for the format; `token`: once for each token under test. */
  readonly scope: 'format' | 'token';
  /** Capability values the check needs; it is reported as skipped when the format declares otherwise. */
  readonly requires: Partial<FormatCapabilities>;
  readonly run: (context: CheckContext) => Promise<void>;
}

function once(id: string, title: string, run: FormatCheck['run']): FormatCheck {
  return { id, group: groupOf(id), title, scope: 'format', requires: {}, run };
}

function perToken(id: string, title: string, run: FormatCheck['run'], requires: FormatCheck['requires'] = {}): FormatCheck {
  return { id, group: groupOf(id), title, scope: 'token', requires, run };
}

/** `round-trip/plain` → `round trip`. */
function groupOf(id: string): string {
  return (id.split('/')[0] as string).replaceAll('-', ' ');
}

/** Every check, in the order the suite registers them. */
export const FORMAT_CHECKS: readonly FormatCheck[] = [
  once('shape', 'declares apiVersion 1, a name, distinct tokens, boolean capabilities and the three methods', checkShape),
  once('unsupported-format/encode', 'encode with an unknown token fails with ERR_UNSUPPORTED_FORMAT', checkEncodeUnknownToken),
  once('unsupported-format/decode', 'decode with an unknown token fails with ERR_UNSUPPORTED_FORMAT', checkDecodeUnknownToken),
  once('sniff/noise', 'empty, short, zero, random and text heads are not claimed', checkSniffRejectsNoise),
  once('sniff/foreign-magic', "other formats' magic is not claimed", checkSniffRejectsForeignMagic),

  perToken('round-trip/plain', 'files, empty files, directories, empty directories, modes and mtimes come back exactly', checkRoundTripPlain),
  perToken('round-trip/paths', 'unicode and long (100, 154, 321 byte) paths come back exactly', checkRoundTripPaths),
  perToken('round-trip/symlinks', 'symlinks come back with their targets', checkRoundTripSymlinks, { symlinks: true }),
  perToken('round-trip/hardlinks', 'hard links come back naming their file', checkRoundTripHardlinks, { hardlinks: true }),
  perToken('round-trip/empty', 'no entries encode and decode to no entries', checkRoundTripEmpty),
  perToken('round-trip/unopened-bodies', 'bodies never opened are skipped', checkUnopenedBodiesSkipped),
  perToken('reproducible', 'the same entries encode to the same bytes (other chunking, time zone and second)', checkReproducible, { reproducible: true }),
  perToken('sniff/own-output', 'its own output is sniffed as a token that decodes it', checkSniffOwnOutput),
  perToken('source-access/streaming', 'a streaming decoder reads stream() and never readRange', checkStreamingDecode, { randomAccessDecode: false }),
  perToken('source-access/random-access', 'a random-access decoder reads through readRange and never stream()', checkRandomAccessDecode, { randomAccessDecode: true }),
  perToken('source-access/independent-bodies', 'bodies marked independentBody come back exactly when read while the later entries are produced', checkIndependentBodies, { randomAccessDecode: true }),
  perToken('huge-entries', 'a file of more than 8 GiB is representable without sending 8 GiB', checkHugeEntry),
  perToken('backpressure', 'the encoder does not read bodies far ahead of a slow consumer', checkEncoderBackpressure),
  perToken('encode-errors/entries', 'an error of the entry iterable fails the output with that error', checkEntriesErrorFailsOutput),
  perToken('encode-errors/body', 'an error of a body fails the output with that error', checkBodyErrorFailsOutput),
  perToken('abort/encode-aborted', 'encode with an aborted signal fails with ERR_ABORTED', checkEncodeAbortedSignal),
  perToken('abort/encode-mid-stream', 'the signal firing mid-encode fails the output with ERR_ABORTED', checkEncodeSignalMidStream),
  perToken('abort/decode-aborted', 'decode with an aborted signal fails with ERR_ABORTED before any entry', checkDecodeAbortedSignal),
  perToken('abort/decode-mid-body', 'the signal firing mid-body ends the decode with ERR_ABORTED', checkDecodeSignalMidBody),
  perToken('abort/decode-stalled-source', 'the signal ends a decode waiting on a stalled source with ERR_ABORTED', checkDecodeSignalStalledSource),
  perToken('damaged-input/garbage', 'random bytes fail with ERR_CORRUPT_ARCHIVE', checkGarbage),
  perToken('damaged-input/truncated', 'a truncated archive fails with ERR_CORRUPT_ARCHIVE', checkTruncated),
  perToken('damaged-input/byte-flips', 'a flipped byte decodes or fails with a coded error, never hangs', checkByteFlips),
];
