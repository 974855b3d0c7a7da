import { NATIVE_FORMAT, formatExtensions } from '@bentoport/core';
import type { CommandName, Group } from './command-line.js';
import { REGISTRY_HELP } from './registry-options.js';

const GLOBAL = `Global options:
  --home DIR          BentoML home (default: $BENTOML_HOME, else ~/bentoml)
  --json              print one JSON document on stdout instead of text
  -q, --quiet         print nothing but errors
  -v, --verbose, --debug
                      diagnostics on stderr: plugins chosen, targets (credentials removed),
                      each phase's time, and on failure the stack (as BENTOPORT_DEBUG=1)
  --do-not-track      accepted for BentoML scripts; bentoport never sends usage data
  --context NAME      BentoCloud context of .yatai.yaml for push/pull (ignored elsewhere)
  --progress MODE     auto (bar when stderr is a terminal), bar, json (JSON lines on stderr), none
  -h, --help          show help
  --version           show the version`;

const TARGET = `Target options (for paths that are not URLs, as BentoML's export/import):
  --protocol P        protocol of PATH (file, s3, ftp, …; default file)
  --user U            user name (S3: access key id)
  --passwd W          password (S3: secret access key); never printed
  --param K=V         extra setting, sent as the URL query (repeatable)
  --subpath S         path inside the resource; PATH is then the bucket or host`;

export const MAIN_HELP = `Usage: bentoport [options] <command> [arguments]

Move BentoML bentos and models between machines, as \`bentoml export/import\` do.

Commands:
  list [NAME]              list bentos in the store
  list URL [NAME]          list bentos in a remote store (s3://bucket/prefix/, a folder, …)
  get TAG                  show a bento (get URL/TAG: one in a remote store)
  delete TAG…              delete bentos
  export TAG [OUT]         write a bento (with its models) to an archive
  import PATH              read a bento archive into the store
  import URL --tag TAG     import a bento and the models it needs from a remote store
  sync SRC DST             sync whole stores: local and remote stores, both ways
  push TAG                 push a bento and its models to a registry (oci://…)
  pull TAG                 pull a bento (and its missing models) from a registry
  sign TAG --key FILE      sign a bento and its models with an SSH key (file or agent)
  verify TAG --allowed-signers FILE
                           check who signed a bento, and that it is still what they signed
  manifest TAG             print the content manifest a signature covers
  models list|get|delete|export|import|push|pull|sign|verify|manifest
                           the same for models
  plugins                  list the installed transports, formats and registries
  completion SHELL         print the shell completion script for bash, zsh or fish

${GLOBAL}

Exit codes: 0 success, 1 failed, 2 wrong command line, 70 internal error (a bug);
interrupted (the operation stops and removes its partial output first): 130 SIGINT,
143 SIGTERM, 129 SIGHUP, 141 stdout or stderr closed while export, import, delete, push,
pull or sync ran (list, get, plugins: 0).

Run 'bentoport <command> --help' for the options of a command.
`;

export const MODELS_HELP = `Usage: bentoport models <command> [arguments]

Commands:
  models list [NAME]         list models in the store (models list URL: a remote store's)
  models get TAG             show a model
  models delete TAG…         delete models (refused while a bento uses them)
  models export TAG [OUT]    write a model to an archive
  models import PATH         read a model archive into the store
  models push TAG            push a model to a registry
  models pull [TAG]          pull a model (or a bentofile's models, -F) from a registry
  models sign TAG --key FILE sign a model with an SSH key
  models verify TAG --allowed-signers FILE
                             check a model's signature
  models manifest TAG        print a model's content manifest

${GLOBAL}
`;

/**
 * The installed formats and the extensions of OUT that pick each (from core's guess), one a line;
 * without the installed list (discovery failed), where to find it.
 */
function formatTable(formats: readonly string[] | undefined, group: Group): string {
  if (formats === undefined) return " The installed formats: 'bentoport plugins'.";
  const kind = group === 'models' ? 'model' : 'bento';
  const native = NATIVE_FORMAT[kind];
  const ordered = [...new Set(formats)].sort((a, b) => Number(b === native) - Number(a === native) || a.localeCompare(b));
  const width = Math.max(...ordered.map((format) => format.length));
  const rows = ordered.map((format) => {
    const extensions = formatExtensions(format, kind);
    return `  ${format.padEnd(width)}  ${extensions.length > 0 ? extensions.join(', ') : '(--format only)'}`;
  });
  return `\nInstalled formats, and the extensions of OUT that pick each:\n${rows.join('\n')}`;
}

function commandHelp(group: Group, command: CommandName, formats: readonly string[] | undefined): string {
  const item = group === 'models' ? 'model' : 'bento';
  const prefix = group === 'models' ? 'bentoport models' : 'bentoport';
  const native = group === 'models' ? 'bentomodel' : 'bento';
  switch (command) {
    case 'list':
      return `Usage: ${prefix} list [NAME] [-o table|json|yaml]
       ${prefix} list URL [NAME] [-o table|json|yaml]

List every ${item}, or every version of NAME, newest first. With URL, list what a registry or a
remote store holds, in the same columns, without downloading weights: a registry
(oci://HOST[:PORT]/REPOSITORY, HOST[:PORT]/REPOSITORY, bentocloud://CONTEXT) from its records; a
remote store that 'bentoport sync' wrote (a path or URL with a '/': s3://bucket/prefix/,
sftp://host/dir/, ftp://…, https:// WebDAV, /mnt/usb/bentos/) from its index (archive heads
without one).

Options:
  -o, --output FORMAT  table (default), json or yaml
`;
    case 'get':
      return `Usage: ${prefix} get TAG [-o yaml|json|path]
       ${prefix} get URL/TAG [-o yaml|json|path]

Show a ${item}. TAG is name, name:version, name:latest or name:<version prefix>. URL/TAG shows
one a registry holds (oci://HOST[:PORT]/REPOSITORY/TAG: its yaml where the registry keeps it,
else what the registry says of it; -o path prints its address) or one in a remote store (its
${item === 'bento' ? 'bento' : 'model'}.yaml read from the head of its archive).

Options:
  -o, --output FORMAT  yaml (default: the ${item}'s ${group === 'models' ? 'model' : 'bento'}.yaml), json, or path (its store directory)
`;
    case 'delete':
      return `Usage: ${prefix} delete TAG… [-y]

Delete ${item}s. Arguments are joined by spaces, then split on ',' if there is one, else on
whitespace. A bare name deletes every version. Asks 'delete ${item} TAG?' for each item and
reads the answer from stdin, typed or piped (echo y | bentoport delete TAG). A malformed
TAG deletes nothing and exits 2.${group === 'models' ? '\nA model that a bento in the store uses is not deleted.' : ''}

Options:
  -y, --yes, --assume-yes  delete without asking
  --dry-run                list what would be deleted, with sizes; delete nothing
`;
    case 'export':
      return `Usage: ${prefix} export TAG [OUT] [options]

Write the ${item}${group === 'models' ? '' : ' and the models it uses'} to an archive. OUT is a file, an existing
directory (default: the current directory, giving <name>-<version>.<format> there), a URL,
or '-' for stdout (refused when stdout is a terminal). The format comes from --format, else
from OUT's extension, else BentoML's native '${native}'.${formatTable(formats, group)}

Options:
  --format F             ${formats === undefined ? 'an installed format (bentoport plugins)' : 'one of the installed formats above'}
  --compression C        auto (default), max or store
  --checksum-file        also write <archive>.sha256 beside the archive
  --resume               continue an interrupted upload to the same URL (S3), and keep
                         this one's parts if it fails
  --sign --key FILE      sign the ${item} first (see 'bentoport sign') and write <archive>.sig;
                         without it, a signature the store holds is written beside it anyway
  --dry-run              say where the archive would go, its format and size; write nothing

${TARGET}
`;
    case 'import':
      return `Usage: ${prefix} import PATH [options]
       ${prefix} import URL --tag TAG

Read a ${item} archive into the store${group === 'models' ? '' : '; embedded models go to the model store (existing ones are kept)'}.
PATH is a file, a URL, or '-' for stdin. The format is read from the bytes where possible.

Options:
  --format F             ${formats === undefined ? 'an installed format (bentoport plugins)' : `one of ${formats.join(', ')}`} (default: detected)
  --sha256 HEX           expected SHA-256 of the archive; nothing is imported on a mismatch
                         (default: <archive>.sha256 beside the file, when there is one)
  --require-signature    refuse the ${item} unless <archive>.sig is a valid signature of it by
                         a signer --allowed-signers FILE allows (for --principal P); checked
                         before anything enters the store. A .sig is kept with the ${item} anyway
  --policy FILE          without --require-signature: the signers each source requires, by
                         a signature policy (default: $BENTOPORT_POLICY, else
                         ~/.config/bentoport/policy.yaml when it exists)
  --dry-run              read the archive's format and size; change nothing in the store
  --tag TAG              URL is a remote store ('bentoport sync'): import the bento TAG
                         (name, name:latest, name:version) with exactly the models it needs
                         that the store lacks, each archive verified against the index

${TARGET}
`;
    case 'sync':
      return `Usage: bentoport sync SRC DST [options]

Sync whole stores. SRC and DST are each 'local' (the store at --home) or a remote store: a
path or URL (s3://bucket/prefix/, sftp://host/dir/, ftp://host/dir/, https:// WebDAV,
/mnt/usb/bentos/). A remote store keeps each model once (models/<name>/<version>.bentomodel),
each bento without its models (bentos/<name>/<version>.bento), a .sha256 beside each archive
(.sig when signed) and bentoport-index.json, written last. Only what DST lacks is sent; every
archive is verified as it arrives; a rerun after an interruption sends only what did not
arrive verified.

Options:
  --filter PAT           only bentos and models whose name (or name:version, when PAT has a
                         ':') matches PAT; * and ? are wildcards; repeatable. A bento's models
                         always follow it
  --latest               only the newest version of each name
  --dry-run              list what would be sent (with sizes) and removed; change nothing
  --delete               remove at DST what SRC no longer has (within --filter), after asking
  -y, --yes              with --delete: do not ask
  --format F             archive format written at a remote DST (default: native .bento and
                         .bentomodel, importable by BentoML; tar is faster on a fast network)
  --concurrency N        transfers at once (default 4)
`;
    case 'push':
      return `Usage: ${prefix} push TAG [options]

Push a ${item} to a registry${group === 'models' ? '' : ', its models first (each skipped when the registry has it)'}.
TAG may be name:latest or a version prefix. A version the registry already holds is skipped
with a notice unless --force.

${REGISTRY_HELP}
  -t, --threads N        parts uploaded at once where the registry has such a setting
                         (BentoCloud multipart; default 4); OCI sends blobs one at a time
  --sign --key FILE      sign the ${item} first (see 'bentoport sign') and attach the signature
                         in the registry (OCI: a referrer of its manifest); without it, a
                         signature the store holds is attached anyway
`;
    case 'sign':
      return `Usage: ${prefix} sign TAG --key FILE

Sign the ${item}: its content manifest (every file of the ${item}${group === 'models' ? '' : ' and of each model it uses'}, with path,
mode, size and SHA-256) is signed with an SSH key in OpenSSH's signature format, namespace
'bentoport', as 'ssh-keygen -Y sign' would. The signature is stored beside the ${item}
(<version>.bentoport.sig in the store); the ${item}'s own directory is not changed.

Options:
  --key FILE             a private key file (OpenSSH or PEM), or a public key (.pub) whose
                         private half ssh-agent holds (default: $BENTOPORT_SIGNING_KEY)
`;
    case 'verify':
      return `Usage: ${prefix} verify TAG --allowed-signers FILE [--principal P]
       ${prefix} verify ARCHIVE|URL|FOLDER [--allowed-signers FILE | --policy FILE]

Check the ${item}'s signature: that a key the allowed_signers file lists made it, then that
the ${item}${group === 'models' ? '' : ' and its models'} are still what was signed. A refusal says why: no signature,
an unknown or disallowed key, a bad signature, or the first file that differs. Exit 1.
An archive (a path or URL on any transport) or exported folder is checked against the .sig
beside it without installing it: it streams once through its decoder, nothing is stored.

Options:
  --allowed-signers FILE the signers allowed, in ssh-keygen's allowed_signers format (as
                         git's gpg.ssh.allowedSignersFile) (default: $BENTOPORT_ALLOWED_SIGNERS)
  --principal P          the principal that must have signed (default: any the file lists)
  --policy FILE          for an archive, without --allowed-signers: the signers its source
                         requires (default: $BENTOPORT_POLICY, else ~/.config/bentoport/policy.yaml)
  --format F             the archive's format (default: detected)
`;
    case 'manifest':
      return `Usage: ${prefix} manifest TAG

Print the ${item}'s content manifest, the bytes a signature covers. With it, OpenSSH checks
a signature on its own:
  ${prefix} manifest TAG | ssh-keygen -Y verify -f allowed_signers -I PRINCIPAL -n bentoport -s SIGNATURE
`;
    case 'plugins':
      return `Usage: bentoport plugins [--json]

List the installed plugins: the transports (URL schemes), formats (--format tokens) and
registries (--registry schemes) bentoport can use, the package of each and where it was found.
A plugin is a package with a "bentoport" declaration in its package.json, found
  - in BENTOPORT_PLUGINS (comma-separated package names or directories),
  - under 'plugins:' in ~/.config/bentoport/config.yaml,
  - in node_modules from the current directory upward (bentoport-<kind>-<name> packages),
  - beside bentoport itself (npm i -g bentoport-transport-<scheme>),
earlier places first. A plugin is imported only when a command names what it serves.
`;
    case 'completion':
      return `Usage: bentoport completion bash|zsh|fish

Print the script that completes bentoport's commands, flags, paths and the tags of the local
store ($BENTOML_HOME, or --home on the line) in that shell. Install it once:

  bash   for this shell:   source <(bentoport completion bash)
         for every shell:  mkdir -p ~/.local/share/bash-completion/completions
                           bentoport completion bash > ~/.local/share/bash-completion/completions/bentoport
                           (loaded by the bash-completion package; without it, put the
                           'source' line in ~/.bashrc)
  zsh    mkdir -p ~/.zfunc && bentoport completion zsh > ~/.zfunc/_bentoport
         and in ~/.zshrc, before 'autoload -U compinit && compinit':  fpath=(~/.zfunc $fpath)
         (for this shell, after compinit:  source <(bentoport completion zsh))
  fish   bentoport completion fish > ~/.config/fish/completions/bentoport.fish

The script asks bentoport itself for the candidates, so it stays right after an upgrade.
`;
    case 'pull':
      return `Usage: ${prefix} pull ${group === 'models' ? '[TAG] [-F BENTOFILE]' : 'TAG'} [options]

Pull ${item === 'bento' ? 'a bento' : 'a model'} from a registry into the store. NAME and NAME:latest mean the
registry's newest version (OCI: created last; BentoCloud: first in its list). The local store
is checked first for that version. Every byte is verified before it enters the store.${group === 'models' ? '' : `
Unlike BentoML (which needs --with-models), the bento's models missing from the model
store are pulled too; --without-models pulls the bento alone.`}

${REGISTRY_HELP}${group === 'models' ? `
  -F, --bentofile PATH   without TAG: pull each model under 'models:' in this bentofile
                         (default ./bentofile.yaml), a tag or a {tag: …} mapping each` : `
  --with-models          pull the missing models (the default; accepted for BentoML users)
  --without-models       pull the bento only`}
  --require-signature    refuse the ${item} unless the registry holds a signature of it by a
                         signer --allowed-signers FILE allows (for --principal P), checked
                         before anything enters the store; a signature found is kept anyway
  --policy FILE          without --require-signature: the signers each source requires, by
                         a signature policy matched on <registry>/<name> (default:
                         $BENTOPORT_POLICY, else ~/.config/bentoport/policy.yaml)
`;
  }
}

/**
 * The help text of a topic, global options included. `formats`: the format tokens the installed
 * plugins serve, which export and import list (undefined when they could not be found).
 */
export function helpText(topic: 'main' | 'models' | CommandName, group: Group, formats?: readonly string[]): string {
  if (topic === 'main') return MAIN_HELP;
  if (topic === 'models') return MODELS_HELP;
  return `${commandHelp(group, topic, formats)}\n${GLOBAL}\n`;
}
