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
    .option('-y, --yes', 'approve every gate', false)
    .option('--allow-changed', 'resume even though the playbook or params changed', false)
    .option('--json', 'print events as NDJSON, one object per line', false)
    .addHelpText(
      'after',
      '\nExit codes: 0 completed, 1 a step failed or timed out, 2 bad input, 3 paused at a gate,\n5 locked by another process, 130 interrupted (state saved).',
    )
    .action(async (playbook: string, opts: { param: string[]; name?: string; approve: string[]; yes: boolean; allowChanged: boolean; json: boolean }) => {
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
    .action(async (run: string | undefined, opts: { json: boolean }) => {
      const { statusCommand } = await import('./commands/status.js');
      const g = globals();
      process.exitCode = await statusCommand(run, {
        cwd: process.cwd(),
        stateDir: g.stateDir,
        config: g.config,
        json: opts.json,
        color: g.colorOut,
        out: process.stdout,
      });
    });

  // -- plan, rollback (and run's --skip) --

  // -- status --watch, prompts --

  // -- list, validate, graph, report, doctor, completion --

  // -- state export|import --

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
