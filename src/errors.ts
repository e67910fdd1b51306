/** Exit codes of the CLI, as documented in the README. */
export const ExitCode = {
  completed: 0,
  failed: 1,
  badInput: 2,
  paused: 3,
  locked: 5,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A source position, 1-based, for messages of the form `file:line:col`. */
export interface SourcePos {
  file: string;
  line?: number;
  col?: number;
}

export function formatPos(pos: SourcePos): string {
  if (pos.line === undefined) return pos.file;
  return `${pos.file}:${pos.line}:${pos.col ?? 1}`;
}

/** Base of every error the user is meant to read: carries its exit code and a hint. */
export class MigrateError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  constructor(message: string, exitCode: ExitCode, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}

/** Bad command-line usage: unknown option values, malformed `--param`. */
export class UsageError extends MigrateError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.badInput, hint === undefined ? {} : { hint });
  }
}

/** One problem found in an input file, with where it is. */
export interface InputProblem extends SourcePos {
  message: string;
}

export function formatProblem(p: InputProblem): string {
  return `${formatPos(p)}: ${p.message}`;
}

/** An input file (playbook, config, state file) is malformed; lists every problem found. */
export class InvalidInputError extends MigrateError {
  readonly problems: InputProblem[];
  constructor(problems: InputProblem[], hint?: string) {
    super(problems.map(formatProblem).join('\n'), ExitCode.badInput, hint === undefined ? {} : { hint });
    this.problems = problems;
  }
}

/** The playbook or params changed under a run that already started. */
export class PlaybookChangedError extends MigrateError {
  constructor(run: string, what: string) {
    super(`run ${run} was started with a different ${what}`, ExitCode.badInput, {
      hint: `finish it with the original ${what}, start a new run with --name, or pass --allow-changed if the change is intended`,
    });
  }
}

/** Another process holds the run's lock. */
export class RunLockedError extends MigrateError {
  readonly holder: LockHolder;
  constructor(run: string, holder: LockHolder, lockPath: string) {
    super(
      `run ${run} is locked by pid ${holder.pid} on host ${holder.host} since ${holder.startedAt}`,
      ExitCode.locked,
      { hint: `wait for that process to finish; if it is gone and the host is another machine, delete ${lockPath}` },
    );
    this.holder = holder;
  }
}

/** Who holds a run lock. */
export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

/** A named run does not exist. */
export class RunNotFoundError extends MigrateError {
  constructor(run: string) {
    super(`no run named ${run}`, ExitCode.badInput, { hint: 'list runs with: migrate status' });
  }
}

/** Thrown when a step needs Kafka and no brokers are configured. */
export class KafkaNotConfiguredError extends MigrateError {
  constructor() {
    super('no Kafka brokers configured', ExitCode.badInput, {
      hint: 'set KAFKA_BROKERS=host:port (npm run kafka:start prints one) or kafka.brokers in migrate.config.yaml',
    });
  }
}

/** Nobody can confirm a rollback here (no terminal, or CI) and --yes was not given: nothing was changed. */
export class RollbackNotConfirmedError extends MigrateError {
  constructor(run: string, command: string) {
    super(`rollback of run ${run} needs confirmation, and there is no terminal to ask at: nothing was changed`, ExitCode.paused, { hint: `confirm with: ${command}` });
  }
}

/** The destination of `migrate state export|import` holds a later copy of the run than the one being moved. */
export class DestinationRunIsNewerError extends MigrateError {
  constructor(moving: { name: string; updatedAt: string }, existing: { updatedAt: string }, where: string) {
    super(
      `run ${moving.name} in ${where} was updated at ${existing.updatedAt}, after the copy being moved (${moving.updatedAt})`,
      ExitCode.badInput,
      { hint: 'it may have gone on there; compare them with migrate status, and pass --force to replace it anyway' },
    );
  }
}

/** A step failed or timed out; keeps the original error as `cause`. */
export class StepFailedError extends MigrateError {
  readonly run: string;
  readonly step: string;
  readonly attempt: number;
  constructor(run: string, step: string, attempt: number, message: string, cause?: unknown) {
    super(`step ${step} failed (attempt ${attempt}): ${message}`, ExitCode.failed, cause === undefined ? {} : { cause });
    this.run = run;
    this.step = step;
    this.attempt = attempt;
  }
}

/** A step's world is not what the playbook declares and the step cannot converge it. */
export class DriftError extends Error {
  readonly differences: string[];
  constructor(subject: string, differences: string[]) {
    super(`${subject} differs from the playbook: ${differences.join('; ')}`);
    this.name = 'DriftError';
    this.differences = differences;
  }
}

/** An error worth retrying (connection refused, leader moved); adapters mark them. */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

export function isTransient(err: unknown): boolean {
  if (err instanceof TransientError) return true;
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}

/** The chain of `cause` messages, outermost first. */
export function causeChain(err: unknown): string[] {
  const out: string[] = [];
  let cur: unknown = err;
  const seen = new Set<unknown>();
  while (cur !== undefined && cur !== null && !seen.has(cur) && out.length < 10) {
    seen.add(cur);
    if (cur instanceof Error) {
      out.push(cur.message);
      cur = (cur as { cause?: unknown }).cause;
    } else {
      out.push(String(cur));
      break;
    }
  }
  return out;
}
