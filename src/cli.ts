import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { ExitCode, MigrateError } from './errors.js';
import { wantsColor } from './ui/paint.js';

// Heavy modules (kafkajs, inquirer, zod-based loaders) are imported inside the actions, so
// `migrate --help` costs little more than starting Node.

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

interface GlobalOptions {
  stateDir?: string;
  config?: string;
  color: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Ctrl-C aborts the run; the engine saves state and the process exits 130. A second Ctrl-C exits at once. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

export function buildProgram(): Command {
  const program = new Command('migrate')
    .description('Move a service-to-service call between synchronous HTTP and event-driven Kafka messaging, as a resumable playbook')
    .version(pkg.version)
    .option('--state-dir <dir>', 'where run state lives (env MIGRATE_STATE_DIR; default .migrate)')
    .option('--config <file>', 'configuration file (default migrate.config.yaml)')
    .option('--no-color', 'plain output without colors (also NO_COLOR=1)')
    .showHelpAfterError('(run migrate --help for usage)')
    .exitOverride();

  const globals = (): GlobalOptions & { colorOut: boolean } => {
    const g = program.opts<GlobalOptions>();
    return { ...g, colorOut: g.color && wantsColor(process.stdout) };
  };

  program
    .command('run')
    .description('run a playbook, or resume the run of the same name')
    .argument('<playbook>', 'a playbook name (./playbooks/ or built-in) or a path to a .yaml file')
    .option('-p, --param <key=value>', 'a playbook param (repeatable)', collect, [])
    .option('-n, --name <run>', 'run name (default: playbook name and topic)')
    .option('--approve <step>', 'approve a gate ahead of time (repeatable)', collect, [])
    .option('--skip <step>', 'mark a step skipped without running it; needs a --reason (repeatable, in pairs)', collect, [])
    .option('--reason <text>', 'why the --skip before it is skipped (recorded in the run)', collect, [])
    .option('-y, --yes', 'approve every gate', false)
    .option('--allow-changed', 'resume even though the playbook or params changed', false)
    .option('--json', 'print events as NDJSON, one object per line', false)
    .addHelpText(
      'after',
      '\nExit codes: 0 completed, 1 a step failed or timed out, 2 bad input, 3 paused at a gate,\n5 locked by another process, 130 interrupted (state saved).',
    )
    .action(async (playbook: string, opts: { param: string[]; name?: string; approve: string[]; skip: string[]; reason: string[]; yes: boolean; allowChanged: boolean; json: boolean }) => {
      const { runCommand } = await import('./commands/run.js');
      const g = globals();
      process.exitCode = await runCommand(playbook, {
        ...opts,
        cwd: process.cwd(),
        stateDir: g.stateDir,
        config: g.config,
        color: g.colorOut,
        out: process.stdout,
        signal: interruptSignal(),
      });
    });

  program
    .command('status')
    .description('show one run in detail, or every run')
    .argument('[run]', 'run name')
    .addOption(new Option('--json', 'print one JSON object').default(false))
    .option('-w, --watch', 'redraw until Ctrl-C (without a terminal: a snapshot each interval, until every run is completed, failed or rolled back)', false)
    .option('--interval <duration>', 'how often --watch looks again', '2s')
    .action(async (run: string | undefined, opts: { json: boolean; watch: boolean; interval: string }) => {
      const { statusCommand } = await import('./commands/status.js');
      const g = globals();
      process.exitCode = await statusCommand(run, {
        cwd: process.cwd(),
        stateDir: g.stateDir,
        config: g.config,
        json: opts.json,
        color: g.colorOut,
        out: process.stdout,
        ...(opts.watch ? { watch: { interval: opts.interval, signal: interruptSignal() } } : {}),
      });
    });

  // -- plan, rollback (and run's --skip) --
  program
    .command('plan')
    .description('what each step would do, from one live read-only check of each (changes nothing)')
    .argument('<playbook>', 'a playbook name (./playbooks/ or built-in) or a path to a .yaml file')
    .option('-p, --param <key=value>', 'a playbook param (repeatable)', collect, [])
    .option('--json', 'print one JSON object: {playbook, params, steps: [{id, uses, verdict, reason}]}', false)
    .addHelpText(
      'after',
      '\nVerdicts: satisfied, would act, would wait, drift, cannot check.\nExit codes: 0 the plan was made (whatever it found), 2 bad input, 130 interrupted.',
    )
    .action(async (playbook: string, opts: { param: string[]; json: boolean }) => {
      const { planCommand } = await import('./commands/plan.js');
      const g = globals();
      process.exitCode = await planCommand(playbook, { ...opts, cwd: process.cwd(), config: g.config, color: g.colorOut, out: process.stdout, signal: interruptSignal() });
    });

  program
    .command('rollback')
    .description("undo what a run did, newest step first, down to --to; says plainly what cannot be undone")
    .argument('<run>', 'run name (see migrate status)')
    .option('--to <step>', 'stop after undoing this step (default: the first step)')
    .option('-y, --yes', 'do not ask for confirmation (required without a terminal)', false)
    .option('--allow-changed', 'roll back even though the playbook changed since the run used it', false)
    .option('-p, --param <key=value>', 'a secret param of the run (the state keeps those masked; repeatable)', collect, [])
    .option('--json', 'print events as NDJSON, one object per line', false)
    .addHelpText(
      'after',
      '\nExit codes: 0 rolled back, 1 an undo failed (run it again to continue), 2 bad input,\n3 not confirmed (pass --yes), 5 locked by another process, 130 interrupted.',
    )
    .action(async (run: string, opts: { to?: string; yes: boolean; allowChanged: boolean; param: string[]; json: boolean }) => {
      const { rollbackCommand } = await import('./commands/rollback.js');
      const g = globals();
      process.exitCode = await rollbackCommand(run, {
        ...opts,
        cwd: process.cwd(),
        stateDir: g.stateDir,
        config: g.config,
        color: g.colorOut,
        out: process.stdout,
        signal: interruptSignal(),
      });
    });

  // -- status --watch, prompts --

  // -- list, validate, graph, report, doctor, completion --
  // `run --notify URL`: commander hands it to runCommand with the run's other options.
  program.commands
    .find((c) => c.name() === 'run')
    ?.option('--notify <url>', 'POST a JSON notification (Slack-compatible) to this webhook when the run pauses, fails or completes (default: notify.webhook in the config)');

  program
    .command('list')
    .description('list the playbooks: ./playbooks/ and the built-ins, with descriptions')
    .option('--json', 'print one JSON object: {playbooks: [{name, source, file, description, params, steps}]}', false)
    .option('--names', 'print only the names, one a line', false)
    .action(async (opts: { json: boolean; names: boolean }) => {
      const { listCommand } = await import('./commands/list.js');
      process.exitCode = await listCommand({ ...opts, cwd: process.cwd(), out: process.stdout });
    });

  program
    .command('validate')
    .description('load a playbook and bind its params, as run would, without touching anything')
    .argument('<playbook>', 'a playbook name (./playbooks/ or built-in) or a path to a .yaml file')
    .option('-p, --param <key=value>', 'a playbook param (repeatable)', collect, [])
    .option('--json', 'print one JSON object: {file, ok, problems: [{file, line, col, message}]}', false)
    .addHelpText('after', '\nExit codes: 0 valid, 2 problems (each as file:line:col: message).')
    .action(async (playbook: string, opts: { param: string[]; json: boolean }) => {
      const { validateCommand } = await import('./commands/validate.js');
      process.exitCode = await validateCommand(playbook, { ...opts, cwd: process.cwd(), out: process.stdout });
    });

  program
    .command('graph')
    .description('print the playbook as a Mermaid flowchart (steps in order, gates as hexagons)')
    .argument('<playbook>', 'a playbook name (./playbooks/ or built-in) or a path to a .yaml file')
    .option('-p, --param <key=value>', 'a playbook param, to expand step titles (repeatable)', collect, [])
    .action(async (playbook: string, opts: { param: string[] }) => {
      const { graphCommand } = await import('./commands/graph.js');
      process.exitCode = await graphCommand(playbook, { ...opts, cwd: process.cwd(), out: process.stdout });
    });

  program
    .command('report')
    .description("a run's audit trail as Markdown: steps, approvals, skips, flag flips, lag samples, schemas, failures")
    .argument('<run>', 'run name (see migrate status)')
    .option('-o, --out <file>', 'write the report to this file instead of stdout')
    .action(async (run: string, opts: { out?: string }) => {
      const { reportCommand } = await import('./commands/report.js');
      const g = globals();
      process.exitCode = await reportCommand(run, { cwd: process.cwd(), stateDir: g.stateDir, config: g.config, out: opts.out, stdout: process.stdout });
    });

  program
    .command('doctor')
    .description('check that Kafka, the flag provider, the schema source and the state directory are reachable and usable')
    .option('--write-check', 'also create and delete a scratch topic (needs Create and Delete on topics)', false)
    .option('--json', 'print one JSON object: {ok, checks: [{name, status, message, fix}]}', false)
    .addHelpText('after', '\nExit codes: 0 nothing failed (warnings allowed), 1 a check failed.')
    .action(async (opts: { writeCheck: boolean; json: boolean }) => {
      const { doctorCommand } = await import('./commands/doctor.js');
      const g = globals();
      process.exitCode = await doctorCommand({ ...opts, cwd: process.cwd(), stateDir: g.stateDir, config: g.config, color: g.colorOut, out: process.stdout });
    });

  program
    .command('completion')
    .description('print a shell completion script: source <(migrate completion bash)')
    .addArgument(program.createArgument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .action(async (shell: string) => {
      const { completionCommand } = await import('./commands/completion.js');
      process.exitCode = await completionCommand(shell, { program, out: process.stdout });
    });

  // -- state export|import --
  // `run --wait-lock`: defined here, beside the other state options; `run`'s action hands it on with the rest of its options.
  program.commands
    .find((c) => c.name() === 'run')
    ?.addOption(new Option('--wait-lock <duration>', 'if another process drives the run, wait up to this long (e.g. 10m) for it to finish or die, then resume'));

  const stateCommand = program.command('state').description('move a run between the file store (.migrate/) and the shared Kafka store');
  stateCommand
    .command('export')
    .description('copy a run from the configured store to the other one (--to) or to a JSON file (--out)')
    .argument('<run>', 'run name')
    .addOption(new Option('--to <store>', 'the store to copy it to').choices(['file', 'kafka']))
    .option('--out <file>', 'write the run state to this JSON file instead')
    .option('--force', 'replace a copy there even if it was updated later', false)
    .option('--json', 'print one JSON object', false)
    .addHelpText('after', '\nTakes the run\'s lock in both stores. Exit codes: 0 copied, 2 bad input or a later copy exists, 5 locked.')
    .action(async (run: string, opts: { to?: 'file' | 'kafka'; out?: string; force: boolean; json: boolean }) => {
      const { stateExportCommand } = await import('./commands/state.js');
      const g = globals();
      process.exitCode = await stateExportCommand(run, {
        cwd: process.cwd(),
        stateDir: g.stateDir,
        config: g.config,
        to: opts.to,
        file: opts.out,
        force: opts.force,
        json: opts.json,
        out: process.stdout,
      });
    });
  stateCommand
    .command('import')
    .description('copy a run into the configured store from a JSON file, or from the other store (--from)')
    .argument('<source>', 'a run state file (JSON), or with --from a run name')
    .addOption(new Option('--from <store>', 'read the run from this store').choices(['file', 'kafka']))
    .option('--force', 'replace the run even if the configured store holds a later copy', false)
    .option('--json', 'print one JSON object', false)
    .addHelpText('after', '\nTakes the run\'s lock in both stores. Exit codes: 0 copied, 2 bad input or a later copy exists, 5 locked.')
    .action(async (source: string, opts: { from?: 'file' | 'kafka'; force: boolean; json: boolean }) => {
      const { stateImportCommand } = await import('./commands/state.js');
      const g = globals();
      process.exitCode = await stateImportCommand(source, {
        cwd: process.cwd(),
        stateDir: g.stateDir,
        config: g.config,
        from: opts.from,
        force: opts.force,
        json: opts.json,
        out: process.stdout,
      });
    });

  const schema = program.command('schema').description('check event schemas: lint, validate events, compare versions');
  schema
    .command('lint')
    .description('is each file a valid JSON Schema for its own $schema, with the event envelope?')
    .argument('<files...>', 'schema files')
    .option('--json', 'print results as JSON', false)
    .action(async (files: string[], opts: { json: boolean }) => {
      const { schemaLintCommand } = await import('./commands/schema.js');
      process.exitCode = await schemaLintCommand(files, { cwd: process.cwd(), json: opts.json, out: process.stdout });
    });
  schema
    .command('validate')
    .description('validate events (JSON files, or NDJSON with one event per line) against a schema')
    .argument('<schema>', 'schema file')
    .argument('<events...>', 'event files (.json or .ndjson)')
    .option('--json', 'print results as JSON', false)
    .action(async (schemaFile: string, eventFiles: string[], opts: { json: boolean }) => {
      const { schemaValidateCommand } = await import('./commands/schema.js');
      process.exitCode = await schemaValidateCommand(schemaFile, eventFiles, { cwd: process.cwd(), json: opts.json, out: process.stdout });
    });
  schema
    .command('compat')
    .description('is the new version backward compatible with the old one?')
    .argument('<old>', 'previous schema file')
    .argument('<new>', 'new schema file')
    .option('--json', 'print results as JSON', false)
    .action(async (oldFile: string, newFile: string, opts: { json: boolean }) => {
      const { schemaCompatCommand } = await import('./commands/schema.js');
      process.exitCode = await schemaCompatCommand(oldFile, newFile, { cwd: process.cwd(), json: opts.json, out: process.stdout });
    });

  return program;
}

/** The one error boundary: domain errors print their message and hint; anything else is a bug. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err, argv.includes('--json'));
    // In GitHub Actions a run that never started (bad input, a locked run) annotates the job too.
    if (process.env.GITHUB_ACTIONS === 'true' && !(err instanceof CommanderError)) {
      const { errorAnnotations } = await import('./ui/github.js');
      process.stderr.write(errorAnnotations(err, Number(process.exitCode)));
    }
  }
}

function reportError(err: unknown, json: boolean): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    return ExitCode.badInput; // commander has printed the message already
  }
  if (err instanceof MigrateError) {
    if (json) process.stdout.write(JSON.stringify({ type: 'error', error: err.name, message: err.message, exitCode: err.exitCode, ...(err.hint ? { hint: err.hint } : {}) }) + '\n');
    process.stderr.write(`error: ${err.message}\n`);
    if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    return err.exitCode;
  }
  process.stderr.write('error: this is a bug in migrate; please report it with the output below\n');
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return ExitCode.failed;
}
