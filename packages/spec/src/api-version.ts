/**
 * The version of the plugin contracts in this package. Every plugin carries the `apiVersion` it
 * was written for; the engine refuses any other with `ERR_PLUGIN_VERSION`, so a plugin built for
 * an older or newer contract fails at once with a message instead of misbehaving half-way.
 *
 * It changes only when a contract changes incompatibly (a required member added, a meaning
 * changed); optional additions keep it.
 */
export const apiVersion = 1;

/** The type of {@link apiVersion}: what a plugin's `apiVersion` field must be. */
export type ApiVersion = typeof apiVersion;
