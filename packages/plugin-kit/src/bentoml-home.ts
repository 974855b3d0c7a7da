import { homedir } from 'node:os';
import path from 'node:path';

/** Expansions tried before giving up on a self-referencing value (`BENTOML_HOME=$BENTOML_HOME/x`). */
const MAX_EXPANSIONS = 10;

/**
 * BentoML's home directory, where `bentoml cloud login` writes `.yatai.yaml`: `BENTOML_HOME`, else
 * `~/bentoml`, with `~` and `$VAR`/`${VAR}` expanded again and again until the value stops
 * changing, as BentoML's own `expand_env_var` does.
 */
export function bentomlHome(env: NodeJS.ProcessEnv): string {
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
