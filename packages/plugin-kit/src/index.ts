export { abortedFailure, toBentoportError, throwIfAborted } from './coded-errors.js';
export { redact, redactErrorSecrets, redactSecrets } from './redaction.js';
export { netrcCredentials, parseNetrc, resolveLogin, type Login, type NetrcCredentials, type NetrcLookupOptions } from './netrc.js';
export { bentomlHome } from './bentoml-home.js';
export { parseNetloc, type Netloc } from './netloc.js';
export { proxyForUrl } from './proxy.js';
export {
  parseTemporarySiblingName,
  staleTemporarySiblings,
  temporarySiblingName,
  temporarySiblingPath,
  type SiblingEntry,
} from './temporary-name.js';
export {
  currentOwner,
  formatOwner,
  hostTag,
  isLeftoverStale,
  isProcessAlive,
  LEFTOVER_STALE_AFTER_MS,
  type LeftoverFacts,
  type LeftoverOwner,
} from './leftover-owner.js';
export { bentoportStateDirectory, uploadJournal, type JournalRecord, type RecordedUpload, type UploadJournal, type UploadJournalOptions, type UploadRecord } from './upload-journal.js';
export { reportRemovedLeftover, siblingDisplay } from './leftover-notice.js';
export { twoPhaseWriter, type TwoPhaseWriter, type TwoPhaseWriterOptions, type TwoPhaseWriterState } from './two-phase-writer.js';
export { GATHERED_CHUNK_BYTES, gatherChunks, peekStream, recodeErrors, writableFinished } from './stream-helpers.js';
export {
  CLASSIFY_MIN_BYTES,
  CLASSIFY_SAMPLE_BYTES,
  classifySample,
  DENSE_DEFLATE,
  deflatePieceChunkSize,
  effectiveClass,
  INFLATE_CHUNK_BYTES,
  type CompressibilityClass,
} from './compressibility.js';
export { errorCodeForHttpStatus, pluginFailure, type PluginFailureOptions } from './plugin-failure.js';
export { NETWORK_DEFAULTS, RENAMED_NETWORK_OPTIONS, resolveNetworkOptions, type NetworkOptions, type ResolvedNetworkOptions } from './network-options.js';
export { optionChecks, type OptionChecks } from './option-validation.js';
export { retryBudget, withRetry, type RetryBudget, type RetryOptions } from './retry.js';
export { reportRetries, retryMessage, retryReason, type RetryReportOptions } from './retry-report.js';
export { networkFailure, timeoutError, type NetworkFailureOptions } from './network-failure.js';
export { timeMicroseconds } from './time-text.js';
export { modelReferences } from './model-references.js';
export { checkReadRange, type ReadRange } from './read-range.js';
export { parentDirectory, serverPath } from './server-path.js';
export { isTlsVerificationError, isTransientHttpStatus, isTransientNetworkError, systemErrorCode } from './transient-errors.js';
export { fileRangeStream, type FileRangeStreamOptions } from './file-range-stream.js';
export { discardBody, httpConnections, readBodyText, type HttpConnections, type HttpRequest, type HttpResponse } from './http-connections.js';
export { openProxyTunnel, proxyAuthorization, type ProxyTunnelOptions } from './proxy-tunnel.js';
export { parallelRanges, type ParallelRangesOptions } from './parallel-ranges.js';
export { BUFFER_GARBAGE_INTERVAL_BYTES, bufferGarbageCollector, YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES, type BufferGarbageCollector, type BufferGarbageOptions } from './buffer-garbage.js';
