import type { Writable } from 'node:stream';
import { loadConfig } from '../config.js';
import { RunNotFoundError } from '../errors.js';
import type { RunState } from '../state/run-state.js';
import { FileRunStore } from '../state/file-store.js';
import { renderRunDetail, renderRunTable } from '../ui/status-view.js';
import { paint } from '../ui/paint.js';

/** Options of `migrate status`. */
export interface StatusCommandOptions {
  cwd: string;
  stateDir?: string | undefined;
  config?: string | undefined;
  json: boolean;
  color: boolean;
  out: Writable;
}

/** The shape `status --json` prints for one run. */
export function runSummary(s: RunState) {
  return {
    name: s.name,
    playbook: s.playbook.name,
    status: s.status,
    ...(s.pausedAt ? { pausedAt: s.pausedAt } : {}),
    params: s.params,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    steps: s.steps.map((st) => ({
      id: st.id,
      uses: st.uses,
      status: st.status,
      attempts: st.attempts,
      ...(st.startedAt ? { startedAt: st.startedAt } : {}),
      ...(st.finishedAt ? { finishedAt: st.finishedAt } : {}),
      ...(st.summary ? { summary: st.summary } : {}),
      ...(st.outputs ? { outputs: st.outputs } : {}),
      ...(st.error ? { error: st.error } : {}),
      ...(st.approval ? { approval: st.approval } : {}),
    })),
  };
}

/** `migrate status [RUN]`: one run in detail, or every run. Returns the exit code. */
export async function statusCommand(run: string | undefined, o: StatusCommandOptions): Promise<number> {
  const config = await loadConfig({ cwd: o.cwd, configPath: o.config, stateDir: o.stateDir });
  const store = new FileRunStore(config.stateDir);
  const c = paint(o.color);
  if (run) {
    const state = await store.read(run);
    if (!state) throw new RunNotFoundError(run);
    o.out.write(o.json ? JSON.stringify(runSummary(state)) + '\n' : renderRunDetail(state, c));
    return 0;
  }
  const states = await store.list();
  o.out.write(o.json ? JSON.stringify({ runs: states.map(runSummary) }) + '\n' : renderRunTable(states, c, config.stateDir));
  return 0;
}
