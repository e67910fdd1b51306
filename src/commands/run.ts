import type { Writable } from 'node:stream';
import { loadConfig } from '../config.js';
import { ExitCode, MigrateError } from '../errors.js';
import { runPlaybook } from '../engine/run-playbook.js';
import { parseParamArgs } from '../playbook/bind.js';
import { FileRunStore } from '../state/file-store.js';
import { createRenderer } from '../ui/render.js';
import { askGate, canPrompt } from '../ui/prompt.js';

/** Options of `migrate run`, as commander hands them over. */
export interface RunCommandOptions {
  cwd: string;
  stateDir?: string | undefined;
  config?: string | undefined;
  param: string[];
  name?: string | undefined;
  approve: string[];
  yes: boolean;
  json: boolean;
  allowChanged: boolean;
  color: boolean;
  out: Writable;
  signal: AbortSignal;
}

const exitCodes = {
  completed: ExitCode.completed,
  paused: ExitCode.paused,
  failed: ExitCode.failed,
  interrupted: ExitCode.interrupted,
} as const;

/** `migrate run <playbook>`: runs or resumes a run and returns the exit code. */
export async function runCommand(playbook: string, o: RunCommandOptions): Promise<number> {
  const config = await loadConfig({ cwd: o.cwd, configPath: o.config, stateDir: o.stateDir });
  const renderer = createRenderer({ json: o.json, out: o.out, color: o.color });
  const interactive = !o.json && canPrompt();
  const continueArgs = [...(o.stateDir ? ['--state-dir', o.stateDir] : []), ...(o.config ? ['--config', o.config] : [])];
  const result = await runPlaybook({
    playbook,
    cwd: o.cwd,
    config,
    store: new FileRunStore(config.stateDir),
    params: parseParamArgs(o.param),
    name: o.name,
    approve: o.approve,
    yes: o.yes,
    allowChanged: o.allowChanged,
    emit: (e) => renderer.event(e),
    signal: o.signal,
    askGate: interactive ? (q) => askGate(q, o.signal) : undefined,
    continueArgs,
  });
  const outcome = result.outcome;
  // Bad input met inside a step (a malformed flag or schema file) is still bad input: exit 2.
  if (outcome.status === 'failed' && outcome.error.cause instanceof MigrateError) return outcome.error.cause.exitCode;
  return exitCodes[outcome.status];
}
