import type { CheckContext } from '../check-context.js';
import { checkPullAbortedSignal, checkPullSignalMidBody, checkPushAbortedSignal, checkPushSignalMidUpload } from './abort.js';
import { checkAuthHas, checkAuthListItems, checkAuthPull, checkAuthPush } from './auth.js';
import { checkDedup } from './dedup.js';
import { checkLatest } from './latest.js';
import { checkList } from './list.js';
import { checkListItems, checkListItemsAborted } from './list-items.js';
import { checkPullMissing } from './not-found.js';
import { checkResume } from './resume.js';
import { checkBentoRoundTrip, checkHasMissing, checkModelRoundTrip } from './round-trip.js';
import { checkShape } from './shape.js';

export * from './abort.js';
export * from './auth.js';
export * from './dedup.js';
export * from './latest.js';
export * from './list.js';
export * from './list-items.js';
export * from './not-found.js';
export * from './resume.js';
export * from './round-trip.js';
export * from './shape.js';

/** One conformance check: a plain async function that throws when the registry breaks the contract. */
export interface RegistryCheck {
  /** Stable name, for `RegistrySuiteOptions.skip`: `abort/push-mid-upload`. */
  readonly id: string;
  readonly title: string;
  /** Why the check does not apply to this registry (a capability, a missing option or method), or undefined. */
  readonly notApplicable?: (context: CheckContext) => string | undefined;
  readonly run: (context: CheckContext) => Promise<void>;
}

const needsCapability =
  (name: 'separateModels' | 'dedup' | 'resumableUploads') =>
  (context: CheckContext): string | undefined =>
    context.registry.capabilities?.[name] === true ? undefined : `capabilities.${name} is not true`;
const needsLatest = (context: CheckContext): string | undefined =>
  context.registry.capabilities?.latestVersion === true ? undefined : 'capabilities.latestVersion is not true (optional)';
const needsBadCredentials = (context: CheckContext): string | undefined => (context.badCredentials === undefined ? 'no badCredentials registry was given' : undefined);
const needsListItems = (context: CheckContext): string | undefined =>
  context.registry.capabilities?.listItems === true ? undefined : 'capabilities.listItems is not true (optional)';
const needsListItemsAndBadCredentials = (context: CheckContext): string | undefined => needsListItems(context) ?? needsBadCredentials(context);
const needsList = (context: CheckContext): string | undefined => (typeof context.registry.list === 'function' ? undefined : 'the registry has no list');

function define(id: string, title: string, run: RegistryCheck['run'], notApplicable?: RegistryCheck['notApplicable']): RegistryCheck {
  return notApplicable === undefined ? { id, title, run } : { id, title, run, notApplicable };
}

/** Every check, in the order the suite registers them. */
export const REGISTRY_CHECKS: readonly RegistryCheck[] = [
  define('shape', 'declares apiVersion 1, a name, a url, boolean capabilities and has/push/pull', checkShape),
  define('has/missing', 'has is false for versions never pushed', checkHasMissing),
  define('not-found/pull', 'pull of a version never pushed rejects its first next() with ERR_NOT_FOUND', checkPullMissing),
  define('round-trip/model', 'a model pushed on its own is there and pulls back exactly', checkModelRoundTrip, needsCapability('separateModels')),
  define('round-trip/bento', 'a bento pushed after its models is there and pulls back exactly, models too', checkBentoRoundTrip),
  define('dedup', 'pushing an unchanged model again sends ~0 bytes', checkDedup, needsCapability('dedup')),
  define('abort/push-aborted', 'push with an aborted signal rejects with ERR_ABORTED, nothing visible', checkPushAbortedSignal),
  define('abort/push-mid-upload', 'the signal firing mid-upload rejects with ERR_ABORTED, nothing visible, a new push works', checkPushSignalMidUpload),
  define('abort/pull-aborted', 'pull with an aborted signal rejects its first next() with ERR_ABORTED', checkPullAbortedSignal),
  define('abort/pull-mid-body', 'the signal firing mid-body ends the pull with ERR_ABORTED', checkPullSignalMidBody),
  define('auth/has', 'has with refused credentials rejects with ERR_AUTH', checkAuthHas, needsBadCredentials),
  define('auth/push', 'push with refused credentials rejects with ERR_AUTH', checkAuthPush, needsBadCredentials),
  define('auth/pull', 'pull with refused credentials rejects its first next() with ERR_AUTH', checkAuthPull, needsBadCredentials),
  define('list', 'list gives the pushed versions, and ERR_NOT_FOUND for a name never pushed', checkList, needsList),
  define('latest', 'latest names the version created last, and ERR_NOT_FOUND for a name never pushed', checkLatest, needsLatest),
  define('list-items', 'listItems gives exactly the complete versions pushed, each as pushed, and [] for a name never pushed', checkListItems, needsListItems),
  define('list-items/aborted', 'listItems with an aborted signal rejects with ERR_ABORTED', checkListItemsAborted, needsListItems),
  define('auth/list-items', 'listItems with refused credentials rejects with ERR_AUTH', checkAuthListItems, needsListItemsAndBadCredentials),
  define('resume', 'an upload interrupted by a failed read is continued, not started over', checkResume, needsCapability('resumableUploads')),
];
