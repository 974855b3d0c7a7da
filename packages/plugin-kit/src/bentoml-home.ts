import { homedir } from 'node:os';
import path from 'node:path';

/** Expansions tried before giving up on a self-referencing value (`BENTOML_HOME=$BENTOML_HOME/x`). */
const MAX_EXPANSIONS = 10;

/**
 * BentoML's home directory, which holds its store (`bentos/`, `models/`) and the `.yatai.yaml`
 * that `bentoml cloud login` writes: `BENTOML_HOME`, else `~/bentoml`, with `~` and
 * `$VAR`/`${VAR}` expanded again and again until the value stops changing (as BentoML's own
 * `expand_env_var` does), made absolute. The one rule the engine and every plugin share, so they
 * never disagree about where the store is.
 * @example bentomlHome({ HOME: '/home/ada', BENTOML_HOME: '~/models' }) // '/home/ada/models'
 */
export function bentomlHome(env: NodeJS.ProcessEnv = process.env): string {
  const userHome = env.HOME ?? env.USERPROFILE ?? homedir();
  let value = env.BENTOML_HOME ?? path.join(userHome, 'bentoml');
  for (let round = 0; round < MAX_EXPANSIONS; round++) {
    const expanded = value
      .replace(/\$\{(\w+)\}|\$(\w+)/g, (whole: string, braced?: string, bare?: string) => env[braced ?? bare ?? ''] ?? whole)
      .replace(/^~(?=$|\/)/, userHome);
    if (expanded === value) break;
    value = expanded;
  }
  return path.resolve(value);
}
