import { loadConfig } from '../config.js';
import { parseParamArgs } from '../playbook/bind.js';
import { ExitCode, RollbackNotConfirmedError } from '../errors.js';
import { rollbackRun, type RollbackPreview } from '../engine/rollback.js';
import { quoteArg } from '../engine/run-playbook.js';
import { openRunStore } from '../state/open-store.js';
import { loadStepTypes } from '../steps/plugins.js';
import { paint } from '../ui/paint.js';
import { askGate, canPrompt } from '../ui/prompt.js';
import { createRenderer } from '../ui/render.js';
import { renderRollbackPreview, rollbackQuestion } from '../ui/rollback-view.js';
import type { CommonOptions, FlagsOf, Interruptible } from './options.js';

/** Options of `migrate rollback`, as commander hands them over; --param gives the secret params, which the run's state does not keep. */
export interface RollbackCommandOptions extends CommonOptions, Interruptible, FlagsOf<'rollback'> {}

const exitCodes = {
  'rolled-back': ExitCode.completed,
  failed: ExitCode.failed,
  unconfirmed: ExitCode.paused,
  interrupted: ExitCode.interrupted,
} as const;

/** `migrate rollback RUN [--to STEP]`: undoes what a run did, newest step first. Returns the exit code. */
export async function rollbackCommand(run: string, o: RollbackCommandOptions): Promise<number> {
  const config = await loadConfig({ cwd: o.cwd, configPath: o.config, stateDir: o.stateDir });
  const renderer = createRenderer({ json: o.json, out: o.out, color: o.color });
  const c = paint(o.color);
  const again = [
    'migrate rollback',
    quoteArg(run),
    ...(o.to !== undefined ? ['--to', quoteArg(o.to)] : []),
    ...(o.stateDir ? ['--state-dir', quoteArg(o.stateDir)] : []),
    ...(o.config ? ['--config', quoteArg(o.config)] : []),
    ...(o.allowChanged ? ['--allow-changed'] : []),
    // Secret values are never printed: the command says where they go.
    ...Object.keys(parseParamArgs(o.param ?? [])).flatMap((k) => ['--param', `${k}=...`]),
    '--yes',
  ].join(' ');

  let unattended = false;
  const confirm = async (preview: RollbackPreview): Promise<boolean> => {
    if (!o.json) o.out.write(renderRollbackPreview(preview, c));
    if (o.yes) return true;
    if (!o.json && canPrompt()) {
      const title = `Roll back run ${preview.run}`;
      return askGate({ run: preview.run, step: 'rollback', title, message: rollbackQuestion(preview) }, { signal: o.signal });
    }
    unattended = true; // nobody can answer here: the error below says how to confirm
    return false;
  };

  const result = await rollbackRun({
    run,
    stepTypes: await loadStepTypes(config.plugins, o.cwd),
    cwd: o.cwd,
    config,
    store: openRunStore(config, { signal: o.signal }),
    to: o.to,
    allowChanged: o.allowChanged,
    params: parseParamArgs(o.param ?? []),
    emit: (e) => renderer.event(e),
    signal: o.signal,
    confirm,
  });
  if (result.outcome.status === 'unconfirmed') {
    if (unattended) throw new RollbackNotConfirmedError(run, again);
    if (!o.json) o.out.write('Not confirmed: nothing was changed.\n');
  }
  return exitCodes[result.outcome.status];
}
