/** Options of `push` and `pull` (bentos and models). */
export const REGISTRY_OPTIONS = {
  registry: { type: 'string' },
  context: { type: 'string' },
  force: { type: 'boolean', short: 'f' },
  'plain-http': { type: 'boolean' },
  insecure: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
} as const;

/** `push` adds BentoML's `-t/--threads N`: parts or layers sent at once, where the registry has such a setting. */
export const PUSH_OPTIONS = {
  ...REGISTRY_OPTIONS,
  threads: { type: 'string', short: 't' },
  sign: { type: 'boolean' },
  key: { type: 'string' },
} as const;

export const PULL_OPTIONS = {
  ...REGISTRY_OPTIONS,
  'with-models': { type: 'boolean' },
  'without-models': { type: 'boolean' },
  'require-signature': { type: 'boolean' },
  'allowed-signers': { type: 'string' },
  principal: { type: 'string' },
  policy: { type: 'string' },
} as const;

/** `models pull` adds BentoML's `-F/--bentofile PATH`: pull the models a bentofile lists. */
export const MODELS_PULL_OPTIONS = {
  bentofile: { type: 'string', short: 'F' },
} as const;

export const REGISTRY_HELP = `Registry options:
  --registry URL         where to push or pull: oci://HOST[:PORT]/REPOSITORY, docker-style
                         HOST[:PORT]/REPOSITORY (HOST has a dot or a port, or is localhost),
                         bentocloud[://CONTEXT], or the scheme of another installed registry
                         plugin. TAG may name it instead: HOST[:PORT][/REPOSITORY]/NAME[:VERSION] (default: $BENTOPORT_REGISTRY, else 'registry:' in
                         ~/.config/bentoport/config.yaml, else BentoCloud when $BENTOML_HOME/.yatai.yaml
                         exists or BENTO_CLOUD_API_KEY is set)
  --context NAME         BentoCloud context of .yatai.yaml (default: $BENTOML_CLOUD_CONTEXT, else
                         the current context)
  -f, --force            push/pull even when the other side has this version; a pull
                         replaces only this version, once the new copy is verified
  --plain-http           talk HTTP, not HTTPS, to a registry that is not on loopback
  --insecure             do not verify the registry's TLS certificate
  --dry-run              say what would be sent or fetched and what the registry already
                         has (it is asked, nothing more); send, download and change nothing`;
