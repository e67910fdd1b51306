import type { Writable } from 'node:stream';
import { loadConfig } from '../config.js';
import { RunNotFoundError, UsageError } from '../errors.js';
import type { RunState } from '../state/run-state.js';
import { openRunStore } from '../state/open-store.js';
import { finalRunStatuses, renderFencedWrites, renderRunDetail, renderRunTable } from '../ui/status-view.js';
import { paint } from '../ui/paint.js';
import { LiveRegion } from '../ui/region.js';
import { parseDuration, sleep } from '../util/time.js';
import type { CommonOptions, FlagsOf } from './options.js';

/** Options of `migrate status`. */
export interface StatusCommandOptions extends CommonOptions, Pick<FlagsOf<'status'>, 'json'> {
  /** --watch: look again every interval ("2s") until the signal aborts (Ctrl-C) or, without a terminal, every run is over. */
  watch?: { interval: string; signal: AbortSignal; env?: Record<string, string | undefined> };
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
      ...(st.skip ? { skip: st.skip } : {}),
    })),
  };
}

/** `migrate status [RUN]`: one run in detail, or every run. Returns the exit code. */
export async function statusCommand(run: string | undefined, o: StatusCommandOptions): Promise<number> {
  const config = await loadConfig({ cwd: o.cwd, configPath: o.config, stateDir: o.stateDir });
  const store = openRunStore(config);
  const c = paint(o.color);
  /** What `status` shows now, and whether every run shown is over. */
  const snapshot = async (): Promise<{ text: string; over: boolean }> => {
    if (run) {
      const state = await store.read(run);
      if (!state) throw new RunNotFoundError(run);
      const fenced = (await store.fencedWrites?.(run)) ?? [];
      const text = o.json
        ? JSON.stringify({ ...runSummary(state), ...(fenced.length ? { fencedWrites: fenced.map(({ run: _, ...f }) => f) } : {}) }) + '\n'
        : renderRunDetail(state, c) + renderFencedWrites(fenced, c);
      return { text, over: settled(state) };
    }
    const states = await store.list();
    return {
      text: o.json ? JSON.stringify({ runs: states.map(runSummary) }) + '\n' : renderRunTable(states, c, config.stateDir),
      over: states.every(settled),
    };
  };
  if (!o.watch) {
    o.out.write((await snapshot()).text);
    return 0;
  }
  return watchStatus(snapshot, o.out, o.watch, o.json, c);
}

/**
 * `status --watch`: at a terminal the view is redrawn in place until Ctrl-C; anywhere else (a CI
 * log, a pipe) a fresh snapshot is printed each interval, separated by a blank line (--json: one
 * object a line), until every watched run is completed, failed, rolled back or paused (a paused
 * run waits for a person, so a pipeline watching it would otherwise wait until its own timeout).
 */
async function watchStatus(
  snapshot: () => Promise<{ text: string; over: boolean }>,
  out: Writable,
  w: NonNullable<StatusCommandOptions['watch']>,
  json: boolean,
  c: ReturnType<typeof paint>,
): Promise<number> {
  const intervalMs = parseDuration(w.interval);
  if (intervalMs === undefined || intervalMs < 100) throw new UsageError(`--interval ${w.interval}: expected a duration of at least 100ms (examples: 500ms, 2s, 1m)`);
  const terminal = out as Writable & { isTTY?: boolean };
  const inPlace = !json && Boolean(terminal.isTTY) && (w.env ?? process.env).TERM !== 'dumb';
  const region = inPlace ? new LiveRegion(terminal) : undefined;
  let first = true;
  try {
    for (;;) {
      const { text, over } = await snapshot();
      if (region) {
        const footer = c.dim(`every ${w.interval} · ${new Date().toLocaleTimeString()} · Ctrl-C to stop`);
        region.draw([...text.trimEnd().split('\n'), '', footer]);
      } else {
        out.write((first || json ? '' : '\n') + text);
        if (over) return 0;
      }
      first = false;
      await sleep(intervalMs, w.signal);
    }
  } catch (err) {
    if (w.signal.aborted) return 0; // Ctrl-C is how a watch ends
    throw err;
  } finally {
    region?.release();
  }
}

/** Nothing more happens to the run without someone acting: a non-terminal watch can stop. */
function settled(s: RunState): boolean {
  return finalRunStatuses.has(s.status) || s.status === 'paused';
}
