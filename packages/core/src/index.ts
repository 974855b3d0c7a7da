// The contracts, for library users who pass plugins in and test errors (`isBentoportError`).
// Plugin authors import them from @bentoport/spec and their helpers from @bentoport/plugin-kit.
export * from '@bentoport/spec';
export type * from './bentoport-types.js';
export * from './tag.js';
export * from './metadata.js';
export { plainScalarType, readsAsNonString, type PlainScalarType } from './pyyaml-scalars.js';
export * from './target.js';
export { defaultHome, loadItemMetadata, openItemStore, type ItemStore, type StoreItem } from './item-store.js';
export { withLock, type LockOptions } from './store-lock.js';
export { DEFAULT_EXTRACTION_LIMITS, extractEntries, normaliseEntryPath, type ExtractionLimits, type ExtractOptions, type ExtractSummary } from './safe-extract.js';
export { itemEntries, type ArchiveSourceTree, type ItemEntriesOptions, type VirtualFile } from './item-entries.js';
export { digestingStream, THREADED_DIGEST_MIN_BYTES, type DigestingStream, type DigestingStreamOptions } from './streams.js';
export { Sha256Thread, type ThreadedHash } from './threaded-sha256.js';
export { createBentoport, describeItem } from './bentoport.js';
export type { DeletePlan, ExportPlan, ImportPlan, PullPlanResult, PushPlanItem, PushPlanResult } from './dry-run.js';
export { bentoportConfigPath, readDefaultRegistry, type PullOptions, type PullResult, type PushOptions, type PushResult, type RegistrySetting } from './push-pull.js';
export { directorySize } from './directory-size.js';
export { contentManifest, manifestDifference, MANIFEST_HEADER, type ManifestSection } from './content-manifest.js';
export {
  parseSignatureFile,
  signatureFileText,
  SIGNATURE_NAMESPACE,
  storeSignaturePath,
  verifyContent,
  type SignOptions,
  type SignResult,
  type VerifyOptions,
  type VerifyResult,
} from './item-signatures.js';
export {
  loadSignaturePolicy,
  parseSignaturePolicy,
  type MatchedRule,
  type SignaturePolicy,
  type SignaturePolicyOptions,
  type SignatureRequirementOptions,
  type SignatureRule,
} from './signature-policy.js';
export type { VerifyArchiveOptions, VerifyArchiveResult } from './archive-verification.js';
export { readBentofileModels, type BentofileModel } from './bentofile.js';
export { isDockerStyleReference, itemReference, registryAddress, type ItemReference } from './registry-reference.js';
export { registrySyncEndpoint, syncItemOfListing } from './registry-sync-endpoint.js';
export { getRegistryItem, listRegistryItems, registryItemYaml, type RegistryItemInfo, type RegistryListingOptions } from './registry-listing.js';
export {
  checkApiVersion,
  missingPluginDetails,
  unsupportedFormatError,
  unsupportedProtocolError,
  unsupportedRegistryError,
  type MissingPluginDetails,
  type PluginKind,
} from './plugins.js';
export {
  checkManifestApiVersion,
  MANIFEST_FIELD,
  pluginFromModule,
  pluginLoadError,
  readPluginManifest,
  servedNames,
  type FormatManifest,
  type PluginManifest,
  type PluginOfKind,
  type PluginPackage,
  type RegistryManifest,
  type TransportManifest,
} from './plugin-manifest.js';
export { readPluginSettings, type PluginListSetting } from './plugin-settings.js';
export {
  syncItemKey,
  type SyncArchive,
  type SyncCallOptions,
  type SyncChange,
  type SyncEndpoint,
  type SyncEntriesOptions,
  type SyncListOptions,
  type SyncItem,
  type SyncModelRef,
  type SyncPayload,
  type SyncReceipt,
} from './sync-endpoint.js';
export { LOCAL_STORE } from './local-store-endpoint.js';
export type { RemoteStore, RemoteStoreOptions } from './remote-store.js';
export { INDEX_LAYOUT_VERSION, parseIndex, type IndexedItem, type RemoteStoreIndex } from './remote-store-index.js';
export { archivePath, INDEX_NAME } from './remote-store-layout.js';
export { matchesFilter, planSync, type PlannedSyncItem, type SyncPlan, type SyncSelection } from './sync-plan.js';
export type { SyncedItem, SyncOptions, SyncResult, SyncTarget } from './sync.js';
export type { RemoteItem } from './remote-store-listing.js';
