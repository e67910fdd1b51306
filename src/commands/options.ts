// Every command-line option, declared once: its flags, help, default and the value completion
// offers, with the type of what commander hands the action derived from the declaration
// (graphile-migrate's CommonArgv). Light on purpose: src/cli.ts loads it for `migrate --help`.
import type { Writable } from 'node:stream';
import { Option, type Command } from 'commander';

/** What every command is handed besides its own options: where it runs, and where it writes. */
export interface CommonOptions {
  cwd: string;
  /** --state-dir (else MIGRATE_STATE_DIR, else .migrate). */
  stateDir?: string | undefined;
  /** --config (else migrate.config.yaml). */
  config?: string | undefined;
  /** Colors wanted: no --no-color, and an output that shows them. */
  color: boolean;
  out: Writable;
}

/** What a command that stops cleanly on Ctrl-C is handed too. */
export interface Interruptible {
  /** Aborted by the first Ctrl-C (SIGINT) or SIGTERM. */
  signal: AbortSignal;
}

/** One option as declared; `T` is the value the action gets. */
export interface DeclaredOption<T> {
  flags: string;
  description: string;
  /** The value when the option is not given; commander shows it in --help. */
  default?: T;
  /** Every use adds a value: -p a=1 -p b=2. */
  repeatable?: boolean;
  choices?: readonly string[];
  /** What shell completion offers for the value. */
  completes?: 'file' | 'dir';
}

/** The values of a command's declared options, as commander hands them to the action. */
export type OptionValues<S> = { [K in keyof S]: S[K] extends DeclaredOption<infer T> ? T : never };

/** A flag without a value: false unless given. */
function flag(flags: string, description: string): DeclaredOption<boolean> {
  return { flags, description, default: false };
}

/** An option with a value: undefined unless given, or its default. */
function value(flags: string, description: string, more?: { completes?: 'file' | 'dir' }): DeclaredOption<string | undefined>;
function value(flags: string, description: string, more: { default: string }): DeclaredOption<string>;
function value(flags: string, description: string, more: { default?: string; completes?: 'file' | 'dir' } = {}): DeclaredOption<string | undefined> {
  return { flags, description, ...more };
}

/** A --no-X flag: true unless given. */
function negated(flags: string, description: string): DeclaredOption<boolean> {
  return { flags, description };
}

/** An option given any number of times, its values in order. */
function list(flags: string, description: string): DeclaredOption<string[]> {
  return { flags, description, default: [], repeatable: true };
}

/** An option whose value is one of `choices`. */
function choice<C extends string>(flags: string, description: string, choices: readonly C[]): DeclaredOption<C | undefined> {
  return { flags, description, choices };
}

const param = list('-p, --param <key=value>', 'a playbook param (repeatable)');
const allowChanged = (description: string) => flag('--allow-changed', description);
const jsonEvents = flag('--json', 'print events as NDJSON, one object per line');
const jsonObject = flag('--json', 'print one JSON object');
const stores = ['file', 'kafka'] as const;
const junit = (what: string) => value('--junit <file>', `also write JUnit XML to this file: ${what} (GitLab, Jenkins, Azure Pipelines, CircleCI read it)`, { completes: 'file' });

/** The program's own options, accepted before or after any command's name. */
export const globalOptions = {
  stateDir: value('--state-dir <dir>', 'where run state lives (env MIGRATE_STATE_DIR; default .migrate)', { completes: 'dir' }),
  config: value('--config <file>', 'configuration file (default migrate.config.yaml)', { completes: 'file' }),
  color: negated('--no-color', 'plain output without colors (also NO_COLOR=1)'),
};
/** The program's own options' values. */
export type GlobalFlags = OptionValues<typeof globalOptions>;

/** Each command's own options, by the command's name. */
export const commandOptions = {
  run: {
    param,
    name: value('-n, --name <run>', 'run name (default: playbook name and topic)'),
    approve: list('--approve <step>', 'approve a gate ahead of time (repeatable)'),
    skip: list('--skip <step>', 'mark a step skipped without running it; needs a --reason (repeatable, in pairs)'),
    reason: list('--reason <text>', 'why the --skip before it is skipped (recorded in the run)'),
    yes: flag('-y, --yes', 'approve every gate'),
    allowChanged: allowChanged('resume even though the playbook or params changed'),
    json: jsonEvents,
    notify: value('--notify <url>', 'POST a JSON notification (Slack-compatible) to this webhook when the run pauses, fails or completes (default: notify.webhook in the config)'),
    waitLock: value('--wait-lock <duration>', 'if another process drives the run, wait up to this long (e.g. 10m) for it to finish or die, then resume'),
    waitApproval: value('--wait-approval <duration>', 'at a gate, wait up to this long (e.g. 30m) for an approval or skip from `migrate dashboard`, then go on (default: pause, exit 3)'),
    junit: junit('one test case per step, written however the run ends'),
  },
  dashboard: {
    port: value('--port <port>', 'port to serve on (0: a free one)', { default: '0' }),
    host: value('--host <address>', 'address to bind; anything but loopback makes the page reachable from the network', { default: '127.0.0.1' }),
    interval: value('--interval <duration>', 'how often the run store is read for changes', { default: '1s' }),
  },
  status: {
    json: jsonObject,
    watch: flag('-w, --watch', 'redraw until Ctrl-C (without a terminal: a snapshot each interval, until every run is completed, failed or rolled back)'),
    interval: value('--interval <duration>', 'how often --watch looks again', { default: '2s' }),
  },
  plan: {
    param,
    json: flag('--json', 'print one JSON object: {playbook, params, steps: [{id, uses, verdict, reason}]}'),
    junit: junit('one test case per step; drift fails, a step that cannot be checked is skipped'),
  },
  rollback: {
    to: value('--to <step>', 'stop after undoing this step (default: the first step)'),
    yes: flag('-y, --yes', 'do not ask for confirmation (required without a terminal)'),
    allowChanged: allowChanged('roll back even though the playbook changed since the run used it'),
    param: list('-p, --param <key=value>', 'a secret param of the run (the state keeps those masked; repeatable)'),
    json: jsonEvents,
  },
  list: {
    json: flag('--json', 'print one JSON object: {playbooks: [{name, source, file, description, params, steps}]}'),
    names: flag('--names', 'print only the names, one a line'),
  },
  validate: {
    param,
    json: flag('--json', 'print one JSON object: {file, ok, problems: [{file, line, col, message}]}'),
  },
  graph: {
    param: list('-p, --param <key=value>', 'a playbook param, to expand step titles (repeatable)'),
  },
  report: {
    out: value('-o, --out <file>', 'write the report to this file instead of stdout (Markdown: its charts as SVG files beside it)', { completes: 'file' }),
    format: choice('--format <format>', 'markdown (default), or html: one self-contained page with the charts inline', ['markdown', 'html'] as const),
  },
  steps: {
    json: flag('--json', 'print one JSON object: {steps: [{type, source, file, docs, apply, undo, gate, needs, timeoutMs, intervalMs, params: [{name, type, required, default, description}]}]}'),
  },
  doctor: {
    writeCheck: flag('--write-check', 'also create and delete a scratch topic (needs Create and Delete on topics)'),
    json: flag('--json', 'print one JSON object: {ok, checks: [{name, status, message, fix}]}'),
  },
  'state export': {
    to: choice('--to <store>', 'the store to copy it to', stores),
    out: value('--out <file>', 'write the run state to this JSON file instead', { completes: 'file' }),
    force: flag('--force', 'replace a copy there even if it was updated later'),
    json: jsonObject,
  },
  'state import': {
    from: choice('--from <store>', 'read the run from this store', stores),
    force: flag('--force', 'replace the run even if the configured store holds a later copy'),
    json: jsonObject,
  },
  // lint, validate and compat
  schema: { json: flag('--json', 'print results as JSON') },
};

/** What commander hands the action of `migrate <command>`: the values of its declared options. */
export type FlagsOf<C extends keyof typeof commandOptions> = OptionValues<(typeof commandOptions)[C]>;

const completions = new WeakMap<Option, 'file' | 'dir'>();

/** What shell completion offers for an option's value, as declared. */
export function completesWith(option: Option): 'file' | 'dir' | undefined {
  return completions.get(option);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Adds the declared options to a command, in order; each key must be the name commander gives the value. */
export function addOptions<S extends Record<string, DeclaredOption<unknown>>>(command: Command, specs: S): Command {
  for (const [key, spec] of Object.entries(specs)) {
    const option = new Option(spec.flags, spec.description);
    if (spec.default !== undefined) option.default(spec.default);
    if (spec.repeatable) option.argParser(collect);
    if (spec.choices) option.choices(spec.choices);
    if (spec.completes) completions.set(option, spec.completes);
    // The action's type is derived from the keys: a key commander names otherwise would be a lie.
    if (option.attributeName() !== key) throw new Error(`option ${spec.flags} is declared as ${key}, but commander names it ${option.attributeName()}`);
    command.addOption(option);
  }
  return command;
}
