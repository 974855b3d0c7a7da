import type { COMPLETION_SHELLS } from './command-line.js';

/*
 * The completion scripts hold no command, flag or tag: on every TAB they call back
 * `bentoport __complete WORD…` (complete-request.ts), which answers from the parser's own tables
 * (completion.ts) and the local store. One reading of the command line, in TypeScript, instead of
 * three in three shell languages; and a script installed once stays right after an upgrade.
 *
 * The protocol: one candidate a line, already matching the word being typed, and the line
 * `:files` or `:directories` when the shell should offer paths itself. No output: nothing to offer.
 */

const BASH = `# bash completion for bentoport, written by \`bentoport completion bash\`.
#
# For this shell:     source <(bentoport completion bash)
# For every shell:    bentoport completion bash > ~/.local/share/bash-completion/completions/bentoport
#                     (bash-completion loads it on the first TAB after \`bentoport\`; without the
#                     bash-completion package, add the \`source\` line to ~/.bashrc instead)
#
# The candidates come from \`bentoport __complete WORD…\`: the commands and flags of the installed
# bentoport (so this script does not go stale when it is upgraded) and the tags of the local store.

_bentoport_completion() {
    local line=\${COMP_LINE:0:COMP_POINT} position=0 index piece spaced
    local -a words=()
    # bash splits words at COMP_WORDBREAKS, ':' and '=' among them: rebuild them as typed, so that
    # the tag svc:v1 and --home=DIR reach bentoport as one word each.
    for ((index = 0; index <= COMP_CWORD; index++)); do
        piece=\${COMP_WORDS[index]}
        spaced=0
        while [[ \${line:position:1} == [[:space:]] ]]; do
            position=$((position + 1))
            spaced=1
        done
        if ((index == COMP_CWORD)); then
            piece=\${line:position}
        fi
        if [[ \${line:position:\${#piece}} != "$piece" ]]; then
            # Not the line bash split (it should not happen): take its words as they are.
            words=("\${COMP_WORDS[@]:0:COMP_CWORD+1}")
            break
        fi
        position=$((position + \${#piece}))
        if ((spaced || \${#words[@]} == 0)); then
            words+=("$piece")
        else
            words[\${#words[@]}-1]+=$piece
        fi
    done
    local current=\${words[\${#words[@]}-1]}
    # Readline replaces only what follows the last word-break character of the word ('svc:' of
    # 'svc:v1' stays), so each candidate loses that part too.
    local kept=\${#current} character
    while ((kept > 0)); do
        character=\${current:kept-1:1}
        [[ $character != [\\"\\'] && $COMP_WORDBREAKS == *"$character"* ]] && break
        kept=$((kept - 1))
    done
    local head=\${current:0:kept} tail=\${current:kept}
    COMPREPLY=()
    local reply candidate path
    reply=$(command bentoport __complete "\${words[@]:1}" 2>/dev/null) || return 0
    while IFS= read -r candidate; do
        case $candidate in
        '') ;;
        :files | :directories)
            compopt -o filenames 2>/dev/null
            while IFS= read -r path; do
                COMPREPLY+=("$path")
            done < <(if [[ $candidate == :files ]]; then compgen -f -- "$tail"; else compgen -d -- "$tail"; fi)
            ;;
        *)
            [[ $candidate == "$head"* ]] && COMPREPLY+=("\${candidate:\${#head}}")
            ;;
        esac
    done <<<"$reply"
    return 0
}

complete -F _bentoport_completion bentoport
`;

const ZSH = `#compdef bentoport
# zsh completion for bentoport, written by \`bentoport completion zsh\`.
#
# For every shell: write it as _bentoport into a directory of $fpath that comes before compinit
# runs in ~/.zshrc, then start a new shell:
#     mkdir -p ~/.zfunc && bentoport completion zsh > ~/.zfunc/_bentoport
#     # in ~/.zshrc, before \`autoload -U compinit && compinit\`:  fpath=(~/.zfunc $fpath)
# For this shell (after compinit):  source <(bentoport completion zsh)
#
# The candidates come from \`bentoport __complete WORD…\`: the commands and flags of the installed
# bentoport (so this file does not go stale when it is upgraded) and the tags of the local store.

_bentoport() {
    local -a reply candidates
    local candidate paths
    reply=("\${(@f)$(command bentoport __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
    for candidate in "\${reply[@]}"; do
        case $candidate in
        '') ;;
        :files | :directories) paths=$candidate ;;
        *) candidates+=("$candidate") ;;
        esac
    done
    (( \${#candidates} )) && compadd -- "\${candidates[@]}"
    if [[ -n $paths ]]; then
        # --home=DIR: complete the path after the '='.
        [[ $PREFIX == --*=* ]] && compset -P '*='
        if [[ $paths == :files ]]; then _files; else _files -/; fi
    fi
    return 0
}

if [[ $funcstack[1] == _bentoport ]]; then
    # Loaded from $fpath by compinit: this file's body is the first call.
    _bentoport "$@"
else
    compdef _bentoport bentoport
fi
`;

const FISH = `# fish completion for bentoport, written by \`bentoport completion fish\`.
#
# For every shell:  bentoport completion fish > ~/.config/fish/completions/bentoport.fish
# For this shell:   bentoport completion fish | source
#
# The candidates come from \`bentoport __complete WORD…\`: the commands and flags of the installed
# bentoport (so this file does not go stale when it is upgraded) and the tags of the local store.

function __bentoport_complete
    set -l words (commandline -opc)
    set -e words[1]
    set -l current (commandline -ct)
    for candidate in (command bentoport __complete $words "$current" 2>/dev/null)
        switch $candidate
            case :files :directories
                # --home=DIR: complete the path after the '='.
                set -l flag (string match -r -- '^--[^=]*=' "$current")
                set -l value (string replace -r -- '^--[^=]*=' '' "$current")
                if test $candidate = :files
                    __fish_complete_path "$value" | string replace -r -- '^' "$flag"
                else
                    __fish_complete_directories "$value" | string replace -r -- '^' "$flag"
                end
            case '*'
                echo $candidate
        end
    end
end

complete -c bentoport -f -a '(__bentoport_complete)'
`;

/** The completion script of `shell`, as `bentoport completion SHELL` prints it. */
export function completionScript(shell: (typeof COMPLETION_SHELLS)[number]): string {
  return { bash: BASH, zsh: ZSH, fish: FISH }[shell];
}
