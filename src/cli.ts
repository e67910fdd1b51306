import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import {
  addOptions,
  commandOptions,
  globalOptions,
  type CommonOptions,
  type FlagsOf,
  type GlobalFlags,
  type Interruptible,
} from './commands/options.js';
import { ExitCode, MigrateError } from './errors.js';
import { packageRoot } from './package-root.js';
import { loadColors, wantsColor } from './ui/paint.js';

// Heavy modules (kafkajs, inquirer, zod-based loaders) are imported inside the actions, so
// `migrate --help` costs little more than starting Node.

const pkg = JSON.parse(readFileSync(new URL('package.json', packageRoot), 'utf8')) as { version: string };

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
  const program = addOptions(
    new Command('migrate')
      .description('Move a service-to-service call between synchronous HTTP and event-driven Kafka messaging, as a resumable playbook')
      .version(pkg.version),
    globalOptions,
  )
    .showHelpAfterError('(run migrate --help for usage)')
    .exitOverride();

  /** What every action hands its command besides the command's own options. */
  const common = (): CommonOptions => {
    const g = program.opts<GlobalFlags>();
    return { cwd: process.cwd(), stateDir: g.stateDir, config: g.config, color: g.color && wantsColor(process.stdout), out: process.stdout };
  };
  /** The same, for a command that stops cleanly on Ctrl-C (only those listen for it: elsewhere Ctrl-C ends the process). */
  const interruptible = (): CommonOptions & Interruptible => ({ ...common(), signal: interruptSignal() });
  const playbookArgument = ['<playbook>', 'a playbook name (./playbooks/ or built-in) or a path to a .yaml file'] as const;
  const runArgument = ['<run>', 'run name (see migrate status)'] as const;

  addOptions(
    program
      .command('run')
      .description('run a playbook, or resume the run of the same name')
      .argument(...playbookArgument),
    commandOptions.run,
  )
    .addHelpText(
      'after',
      '\nExit codes: 0 completed, 1 a step failed or timed out, 2 bad input, 3 paused at a gate,\n5 locked by another process, 130 interrupted (state saved).',
    )
    .action(async (playbook: string, opts: FlagsOf<'run'>) => {
      const { runCommand } = await import('./commands/run.js');
      process.exitCode = await runCommand(playbook, { ...interruptible(), ...opts });
    });

  addOptions(program.command('status').description('show one run in detail, or every run').argument('[run]', 'run name'), commandOptions.status).action(
    async (run: string | undefined, opts: FlagsOf<'status'>) => {
      const { statusCommand } = await import('./commands/status.js');
      process.exitCode = await statusCommand(run, {
        ...common(),
        json: opts.json,
        ...(opts.watch ? { watch: { interval: opts.interval, signal: interruptSignal() } } : {}),
      });
    },
  );

  addOptions(
    program.command('dashboard').description('a live web page of every run, on 127.0.0.1: timelines, lag charts, approve and skip'),
    commandOptions.dashboard,
  ).action(async (opts: FlagsOf<'dashboard'>) => {
    const { dashboardCommand } = await import('./commands/dashboard.js');
    process.exitCode = await dashboardCommand({ ...interruptible(), ...opts });
  });

  addOptions(
    program
      .command('plan')
      .description('what each step would do, from one live read-only check of each (changes nothing)')
      .argument(...playbookArgument),
    commandOptions.plan,
  )
    .addHelpText(
      'after',
      '\nVerdicts: satisfied, would act, would wait, drift, cannot check.\nExit codes: 0 the plan was made (whatever it found), 2 bad input, 130 interrupted.',
    )
    .action(async (playbook: string, opts: FlagsOf<'plan'>) => {
      const { planCommand } = await import('./commands/plan.js');
      process.exitCode = await planCommand(playbook, { ...interruptible(), ...opts });
    });

  addOptions(
    program
      .command('rollback')
      .description("undo what a run did, newest step first, down to --to; says plainly what cannot be undone")
      .argument(...runArgument),
    commandOptions.rollback,
  )
    .addHelpText(
      'after',
      '\nExit codes: 0 rolled back, 1 an undo failed (run it again to continue), 2 bad input,\n3 not confirmed (pass --yes), 5 locked by another process, 130 interrupted.',
    )
    .action(async (run: string, opts: FlagsOf<'rollback'>) => {
      const { rollbackCommand } = await import('./commands/rollback.js');
      process.exitCode = await rollbackCommand(run, { ...interruptible(), ...opts });
    });

  addOptions(program.command('list').description('list the playbooks: ./playbooks/ and the built-ins, with descriptions'), commandOptions.list).action(async (opts: FlagsOf<'list'>) => {
    const { listCommand } = await import('./commands/list.js');
    process.exitCode = await listCommand({ ...common(), ...opts });
  });

  addOptions(
    program
      .command('validate')
      .description('load a playbook and bind its params, as run would, without touching anything')
      .argument(...playbookArgument),
    commandOptions.validate,
  )
    .addHelpText('after', '\nExit codes: 0 valid, 2 problems (each as file:line:col: message).')
    .action(async (playbook: string, opts: FlagsOf<'validate'>) => {
      const { validateCommand } = await import('./commands/validate.js');
      process.exitCode = await validateCommand(playbook, { ...common(), ...opts });
    });

  addOptions(
    program
      .command('graph')
      .description('print the playbook as a Mermaid flowchart (steps in order, gates as hexagons)')
      .argument(...playbookArgument),
    commandOptions.graph,
  ).action(async (playbook: string, opts: FlagsOf<'graph'>) => {
    const { graphCommand } = await import('./commands/graph.js');
    process.exitCode = await graphCommand(playbook, { ...common(), ...opts });
  });

  addOptions(
    program
      .command('report')
      .description("a run's audit trail as Markdown or HTML: steps, approvals, skips, flag flips, lag and rate charts, schemas, failures")
      .argument(...runArgument),
    commandOptions.report,
  ).action(async (run: string, opts: FlagsOf<'report'>) => {
    const { reportCommand } = await import('./commands/report.js');
    process.exitCode = await reportCommand(run, { ...common(), file: opts.out, format: opts.format });
  });

  addOptions(
    program
      .command('steps')
      .description('list the step types available here, built-in and from plugins (migrate.config.yaml plugins:), with their params')
      .argument('[type]', 'show one step type in detail'),
    commandOptions.steps,
  )
    .addHelpText('after', '\nExit codes: 0 listed, 2 no such type or a plugin does not load (naming its file).')
    .action(async (type: string | undefined, opts: FlagsOf<'steps'>) => {
      const { stepsCommand } = await import('./commands/steps.js');
      process.exitCode = await stepsCommand(type, { ...common(), ...opts });
    });

  addOptions(
    program.command('doctor').description('check that Kafka, the flag provider, the schema source and the state directory are reachable and usable'),
    commandOptions.doctor,
  )
    .addHelpText('after', '\nExit codes: 0 nothing failed (warnings allowed), 1 a check failed.')
    .action(async (opts: FlagsOf<'doctor'>) => {
      const { doctorCommand } = await import('./commands/doctor.js');
      process.exitCode = await doctorCommand({ ...common(), ...opts });
    });

  program
    .command('completion')
    .description('print a shell completion script: source <(migrate completion bash)')
    .addArgument(program.createArgument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .action(async (shell: string) => {
      const { completionCommand } = await import('./commands/completion.js');
      process.exitCode = await completionCommand(shell, { ...common(), program });
    });

  const stateCommand = program.command('state').description('move a run between the file store (.migrate/) and the shared Kafka store');
  const stateHelp = "\nTakes the run's lock in both stores. Exit codes: 0 copied, 2 bad input or a later copy exists, 5 locked.";
  addOptions(
    stateCommand
      .command('export')
      .description('copy a run from the configured store to the other one (--to) or to a JSON file (--out)')
      .argument('<run>', 'run name'),
    commandOptions['state export'],
  )
    .addHelpText('after', stateHelp)
    .action(async (run: string, opts: FlagsOf<'state export'>) => {
      const { stateExportCommand } = await import('./commands/state.js');
      process.exitCode = await stateExportCommand(run, { ...common(), to: opts.to, file: opts.out, force: opts.force, json: opts.json });
    });
  addOptions(
    stateCommand
      .command('import')
      .description('copy a run into the configured store from a JSON file, or from the other store (--from)')
      .argument('<source>', 'a run state file (JSON), or with --from a run name'),
    commandOptions['state import'],
  )
    .addHelpText('after', stateHelp)
    .action(async (source: string, opts: FlagsOf<'state import'>) => {
      const { stateImportCommand } = await import('./commands/state.js');
      process.exitCode = await stateImportCommand(source, { ...common(), ...opts });
    });

  const schema = program.command('schema').description('check event schemas: lint, validate events, compare versions');
  addOptions(
    schema.command('lint').description('is each file a valid JSON Schema for its own $schema, with the event envelope?').argument('<files...>', 'schema files'),
    commandOptions.schema,
  ).action(async (files: string[], opts: FlagsOf<'schema'>) => {
    const { schemaLintCommand } = await import('./commands/schema.js');
    process.exitCode = await schemaLintCommand(files, { ...common(), ...opts });
  });
  addOptions(
    schema
      .command('validate')
      .description('validate events (JSON files, or NDJSON with one event per line) against a schema')
      .argument('<schema>', 'schema file')
      .argument('<events...>', 'event files (.json or .ndjson)'),
    commandOptions.schema,
  ).action(async (schemaFile: string, eventFiles: string[], opts: FlagsOf<'schema'>) => {
    const { schemaValidateCommand } = await import('./commands/schema.js');
    process.exitCode = await schemaValidateCommand(schemaFile, eventFiles, { ...common(), ...opts });
  });
  addOptions(
    schema.command('compat').description('is the new version backward compatible with the old one?').argument('<old>', 'previous schema file').argument('<new>', 'new schema file'),
    commandOptions.schema,
  ).action(async (oldFile: string, newFile: string, opts: FlagsOf<'schema'>) => {
    const { schemaCompatCommand } = await import('./commands/schema.js');
    process.exitCode = await schemaCompatCommand(oldFile, newFile, { ...common(), ...opts });
  });

  return program;
}

/** The one error boundary: domain errors print their message and hint; anything else is a bug. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    if (wantsColor(process.stdout) || wantsColor(process.stderr)) await loadColors();
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
