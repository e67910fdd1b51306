import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { completesWith, type CommonOptions } from './options.js';

/** What an option's value is, for completion. */
type ValueKind = { kind: 'file' } | { kind: 'dir' } | { kind: 'words'; words: string[] } | { kind: 'any' };

/** An option as completion sees it. */
export interface OptionSpec {
  names: string[];
  description: string;
  /** Undefined for a flag that takes no value. */
  value?: ValueKind;
}

/** What a positional argument is: completed from `migrate list`, the state dir, files, or fixed words. */
export type ArgKind = { kind: 'playbook' } | { kind: 'run' } | { kind: 'file' } | { kind: 'words'; words: string[] } | { kind: 'any' };

/** A command (or the program itself) as completion sees it. */
export interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  args: ArgKind[];
  /** The last argument takes any number of values. */
  variadic: boolean;
  subcommands: CommandSpec[];
}

/** Positional arguments, by the name the command gives them. */
function argKind(name: string, choices: string[] | undefined): ArgKind {
  if (choices?.length) return { kind: 'words', words: choices };
  if (name === 'playbook') return { kind: 'playbook' };
  if (name === 'run') return { kind: 'run' };
  if (/^(files?|schema|events|old|new)$/.test(name)) return { kind: 'file' };
  return { kind: 'any' };
}

/** The command tree, read from the commander program itself, so new commands complete without changes here. */
export function completionSpec(program: Command, inherited: OptionSpec[] = []): CommandSpec {
  const own: OptionSpec[] = program.options
    .filter((o) => !o.hidden)
    .map((o) => {
      const names = [o.short, o.long].filter((n): n is string => Boolean(n));
      const spec: OptionSpec = { names, description: o.description };
      if (o.required || o.optional) spec.value = o.argChoices?.length ? { kind: 'words', words: o.argChoices } : { kind: completesWith(o) ?? 'any' };
      return spec;
    });
  const options = [...own, ...inherited.filter((i) => !own.some((o) => o.names.some((n) => i.names.includes(n)))), { names: ['-h', '--help'], description: 'display help' }];
  const args = program.registeredArguments;
  // Program options (--state-dir, --config, --no-color) are accepted after a command name too.
  const global = program.parent ? inherited : own.filter((o) => !o.names.includes('--version'));
  return {
    name: program.name(),
    description: program.description(),
    options: uniqueOptions(options),
    args: args.map((a) => argKind(a.name(), a.argChoices)),
    variadic: Boolean(args.at(-1)?.variadic),
    subcommands: program.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden).map((c) => completionSpec(c, global)),
  };
}

function uniqueOptions(options: OptionSpec[]): OptionSpec[] {
  const seen = new Set<string>();
  return options.filter((o) => {
    const key = o.names.join(' ');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Every command path with its spec: "" for the program, "schema lint" for a subcommand. */
function paths(spec: CommandSpec, prefix = ''): [string, CommandSpec][] {
  const out: [string, CommandSpec][] = [[prefix, spec]];
  for (const sub of spec.subcommands) out.push(...paths(sub, prefix ? `${prefix} ${sub.name}` : sub.name));
  return out;
}

/** Words safe in a shell script: our command and option names are plain, but never trust that blindly. */
function word(w: string): string {
  if (!/^[A-Za-z0-9_.:=+@%/-]+$/.test(w)) throw new Error(`cannot put ${JSON.stringify(w)} in a completion script`);
  return w;
}

function sq(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Lines of a `case "$cmdpath" in ... esac` over every command path; `body` returns the case's statements. */
function caseOverPaths(all: [string, CommandSpec][], body: (spec: CommandSpec) => string | undefined, indent = '    '): string {
  const arms = all.flatMap(([p, spec]) => {
    const b = body(spec);
    return b === undefined ? [] : [`${indent}${sq(p)}) ${b} ;;`];
  });
  return arms.join('\n');
}

/** How to complete an argument or option value: the name of a helper and its words. */
function valueAction(v: ValueKind | ArgKind): string {
  return say(v.kind === 'words' ? ['words', ...v.words] : [v.kind]);
}

/** Prints words as one line (printf, not echo: a word such as -n must not be taken for an option). */
function say(words: string[]): string {
  return `printf '%s\\n' '${words.map(word).join(' ')}'`;
}

/** Case arms shared by both shells (bash and zsh read `case` the same way). */
function helpers(name: string, spec: CommandSpec): string {
  const all = paths(spec);
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const valueOptions = (s: CommandSpec) => s.options.filter((o) => o.value).flatMap((o) => o.names);
  return `${fn}_subcommands() {
  case "$1" in
${caseOverPaths(all, (s) => (s.subcommands.length ? say(s.subcommands.map((c) => c.name)) : undefined))}
  esac
}

${fn}_options() {
  case "$1" in
${caseOverPaths(all, (s) => say(s.options.flatMap((o) => o.names)))}
  esac
}

# What an option's value is: file, dir, words W..., any; nothing for a flag without a value.
${fn}_option_value() {
  case "$1" in
${all
  .map(([p, s]) => {
    const arms = s.options.filter((o) => o.value).map((o) => `${o.names.map(word).join('|')}) ${valueAction(o.value as ValueKind)} ;;`);
    return arms.length ? `    ${sq(p)}) case "$2" in ${arms.join(' ')} esac ;;` : '';
  })
  .filter(Boolean)
  .join('\n')}
  esac
}

# What the Nth (0-based) positional argument is: playbook, run, file, words W..., any.
${fn}_arg() {
  case "$1" in
${caseOverPaths(all, (s) => {
  if (!s.args.length) return undefined;
  const arms = s.args.map((a, i) => `${i === s.args.length - 1 && s.variadic ? '*' : String(i)}) ${valueAction(a)} ;;`);
  return `case "$2" in ${arms.join(' ')} esac`;
})}
  esac
}

${fn}_takes_value() {
  case "$1" in
${caseOverPaths(all, (s) => (valueOptions(s).length ? `case "$2" in ${valueOptions(s).map(word).join('|')}) return 0 ;; esac` : undefined))}
  esac
  return 1
}
`;
}

/**
 * The loop both shells run over the words before the cursor: the command path so far and how
 * many positional arguments precede the cursor; option values are skipped. Only the words array
 * and its bounds differ between bash and zsh.
 */
function wordsBeforeCursor(fn: string, first: number, cursor: string, words: string): string {
  return `  for ((i = ${first}; i < ${cursor}; i++)); do
    w="\${${words}[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$w" in
      -*=*) continue ;;
      -*) ${fn}_takes_value "$cmdpath" "$w" && skip=1; continue ;;
    esac
    if ((npos == 0)) && [[ " $(${fn}_subcommands "$cmdpath") " == *" $w "* ]]; then
      cmdpath="\${cmdpath:+$cmdpath }$w"
    else
      npos=$((npos + 1))
    fi
  done
`;
}

/** The bash completion script. */
export function bashCompletion(spec: CommandSpec): string {
  const name = spec.name;
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  return `# bash completion for ${name}. Generated by: ${name} completion bash
# Load it in this shell:   source <(${name} completion bash)
# Or for every new shell:  ${name} completion bash > ~/.local/share/bash-completion/completions/${name}
${helpers(name, spec)}
# Playbook names, from \`${name} list --names\` run now (./playbooks/ of the current directory and the built-ins).
${fn}_playbooks() {
  local bin="$1"
  [[ "$bin" == "~/"* ]] && bin="$HOME/\${bin#\\~/}"
  "$bin" list --names 2>/dev/null
}

# Run names: the state files in --state-dir (from the command line), $MIGRATE_STATE_DIR, or .migrate.
${fn}_runs() {
  local dir="\${MIGRATE_STATE_DIR:-.migrate}" i f
  for ((i = 1; i < \${#COMP_WORDS[@]}; i++)); do
    case "\${COMP_WORDS[i]}" in
      --state-dir) dir="\${COMP_WORDS[i+1]}" ;;
      --state-dir=*) dir="\${COMP_WORDS[i]#--state-dir=}" ;;
    esac
  done
  for f in "$dir"/*.json; do
    [[ -e "$f" ]] || continue
    f="\${f##*/}"
    printf '%s\\n' "\${f%.json}"
  done
}

${fn}_complete_value() {
  local cur="$1" bin="$2" kind="$3"
  shift 3
  case "$kind" in
    file) COMPREPLY=($(compgen -f -- "$cur")) ;;
    dir) COMPREPLY=($(compgen -d -- "$cur")) ;;
    words) COMPREPLY=($(compgen -W "$*" -- "$cur")) ;;
    run) COMPREPLY=($(compgen -W "$(${fn}_runs)" -- "$cur")) ;;
    playbook)
      if [[ "$cur" == */* || "$cur" == .* ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
      else
        COMPREPLY=($(compgen -W "$(${fn}_playbooks "$bin")" -- "$cur"))
      fi
      ;;
    *) COMPREPLY=() ;;
  esac
}

${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" cmdpath="" w i skip=0 npos=0
  ((COMP_CWORD > 0)) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  # The command path and how many positional arguments precede the cursor; option values are skipped.
${wordsBeforeCursor(fn, 1, 'COMP_CWORD', 'COMP_WORDS')}  COMPREPLY=()
  if ((skip)); then
    ${fn}_complete_value "$cur" "\${COMP_WORDS[0]}" $(${fn}_option_value "$cmdpath" "$prev")
    return 0
  fi
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(${fn}_options "$cmdpath")" -- "$cur"))
    return 0
  fi
  local subs
  subs="$(${fn}_subcommands "$cmdpath")"
  if [[ -n "$subs" && npos -eq 0 ]]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    return 0
  fi
  local arg
  arg="$(${fn}_arg "$cmdpath" "$npos")"
  ${fn}_complete_value "$cur" "\${COMP_WORDS[0]}" $arg
  return 0
}

complete -o default -o bashdefault -F ${fn} ${word(name)} 2>/dev/null || complete -F ${fn} ${word(name)}
`;
}

/** The zsh completion script (native: commands and options with descriptions). */
export function zshCompletion(spec: CommandSpec): string {
  const name = spec.name;
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const all = paths(spec);
  const described = (s: CommandSpec) => s.subcommands.map((c) => sq(`${c.name}:${c.description.replace(/:/g, '\\:')}`)).join(' ');
  const describedOptions = (s: CommandSpec) => s.options.flatMap((o) => o.names.map((n) => sq(`${n}:${o.description.replace(/:/g, '\\:')}`))).join(' ');
  return `#compdef ${word(name)}
# zsh completion for ${name}. Generated by: ${name} completion zsh
# Load it in this shell:   source <(${name} completion zsh)
# Or install it:           ${name} completion zsh > "\${fpath[1]}/_${name}"   (then restart zsh)
${helpers(name, spec)}
${fn}_described_subcommands() {
  case "$1" in
${caseOverPaths(all, (s) => (s.subcommands.length ? `reply=(${described(s)})` : undefined))}
    *) reply=() ;;
  esac
}

${fn}_described_options() {
  case "$1" in
${caseOverPaths(all, (s) => `reply=(${describedOptions(s)})`)}
    *) reply=() ;;
  esac
}

${fn}_runs() {
  local dir="\${MIGRATE_STATE_DIR:-.migrate}" i
  for ((i = 2; i < CURRENT; i++)); do
    case "\${words[i]}" in
      --state-dir) dir="\${words[i+1]}" ;;
      --state-dir=*) dir="\${words[i]#--state-dir=}" ;;
    esac
  done
  local -a runs
  runs=("$dir"/*.json(N:t:r))
  compadd -a runs
}

${fn}_value() {
  local kind="$1"
  shift
  case "$kind" in
    file) _files ;;
    dir) _files -/ ;;
    words) compadd -- "$@" ;;
    run) ${fn}_runs ;;
    playbook)
      if [[ "$PREFIX" == */* || "$PREFIX" == .* ]]; then
        _files -g '*.(yaml|yml)'
      else
        local -a playbooks
        playbooks=(\${(f)"$(\${~words[1]} list --names 2>/dev/null)"})
        compadd -a playbooks
      fi
      ;;
    *) _message 'value' ;;
  esac
}

${fn}() {
  local cur="\${words[CURRENT]}" prev="\${words[CURRENT-1]}" cmdpath="" w i skip=0 npos=0
  local -a reply
${wordsBeforeCursor(fn, 2, 'CURRENT', 'words')}  if ((skip)); then
    local v
    v="$(${fn}_option_value "$cmdpath" "$prev")"
    ${fn}_value \${=v}
    return
  fi
  if [[ "$cur" == -* ]]; then
    ${fn}_described_options "$cmdpath"
    _describe -t options 'option' reply
    return
  fi
  if [[ -n "$(${fn}_subcommands "$cmdpath")" ]] && ((npos == 0)); then
    ${fn}_described_subcommands "$cmdpath"
    _describe -t commands 'command' reply
    return
  fi
  local arg
  arg="$(${fn}_arg "$cmdpath" "$npos")"
  ${fn}_value \${=arg}
}

if [[ "\${funcstack[1]}" == "_${name}" ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${word(name)}
fi
`;
}

/** Options of `migrate completion`. */
export interface CompletionCommandOptions extends CommonOptions {
  program: Command;
}

/** `migrate completion bash|zsh`: prints the completion script. */
export async function completionCommand(shell: string, o: CompletionCommandOptions): Promise<number> {
  const spec = completionSpec(o.program);
  if (shell === 'bash') o.out.write(bashCompletion(spec));
  else if (shell === 'zsh') o.out.write(zshCompletion(spec));
  else throw new UsageError(`no completion for shell "${shell}"`, 'choose bash or zsh');
  return 0;
}
