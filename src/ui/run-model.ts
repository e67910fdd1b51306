import type { RunEvent } from '../engine/events.js';
import type { StepStatus } from '../state/run-state.js';

/** What the terminal shows of one step, folded from the run's events. */
export interface StepRow {
  id: string;
  title: string;
  status: StepStatus;
  /** The latest thing the step said: a check, a progress message, its final summary. */
  summary?: string;
  /** A transient remark: a retry being waited out. */
  note?: string;
  /** Failure message, and the chain of causes under it. */
  error?: string;
  causes?: string[];
  timeoutMs?: number;
  /** When this execution of the step began (ms since the epoch). */
  startedAt?: number;
  durationMs?: number;
  alreadyDone?: boolean;
  /** The latest numbers the step reported while waiting, and the largest lag seen. */
  metrics?: Record<string, number>;
  initialLag?: number;
  /** Values the step recorded when it acted (flag flipped, topic created). */
  outputs?: Record<string, unknown>;
  /** A person is being asked about this gate right now. */
  asking?: boolean;
}

/** How the run ended, once it has. */
export interface RunEnd {
  status: string;
  step?: string;
  durationMs: number;
}

/** A run as the events tell it: every step with its latest state. Pure: time comes in with each event. */
export class RunModel {
  run = '';
  playbook = '';
  resumed = false;
  steps: StepRow[] = [];
  finished: RunEnd | undefined;

  /** Folds one event in; returns false for events that say nothing about the step list. */
  apply(e: RunEvent, now: number = Date.now()): boolean {
    switch (e.type) {
      case 'run.started':
        this.run = e.run;
        this.playbook = e.playbook;
        this.resumed = e.resumed;
        this.finished = undefined;
        this.steps = (e.stepList ?? []).map((s) => ({
          id: s.id,
          title: s.title,
          // A step left "running" by a process that died is looked at again before anything else.
          status: s.status === 'running' ? 'pending' : s.status,
          ...(s.summary ? { summary: s.summary } : {}),
          ...(s.timeoutMs !== undefined ? { timeoutMs: s.timeoutMs } : {}),
        }));
        return true;
      case 'step.started': {
        const row = this.row(e.step, e.title);
        row.title = e.title;
        row.status = 'running';
        row.startedAt = now;
        for (const k of ['note', 'error', 'causes', 'metrics', 'initialLag', 'durationMs', 'alreadyDone'] as const) delete row[k];
        return true;
      }
      case 'step.checked':
        if (!e.done) this.row(e.step).summary = e.summary;
        return true;
      case 'step.applied': {
        const row = this.row(e.step);
        if (e.outputs && Object.keys(e.outputs).length) row.outputs = e.outputs;
        return true;
      }
      case 'step.progress': {
        const row = this.row(e.step);
        row.summary = e.progress.message;
        delete row.note;
        if (row.startedAt === undefined) row.startedAt = now - e.elapsedMs;
        if (e.progress.metrics) {
          row.metrics = e.progress.metrics;
          const lag = e.progress.metrics.lag;
          if (lag !== undefined) row.initialLag = Math.max(row.initialLag ?? 0, lag);
        }
        return true;
      }
      case 'step.retry':
        this.row(e.step).note = `${e.error}; retry ${e.retry} in ${Math.round(e.delayMs)}ms`;
        return true;
      case 'step.done': {
        const row = this.row(e.step);
        row.status = 'done';
        row.summary = e.summary;
        row.durationMs = e.durationMs;
        if (e.alreadyDone) row.alreadyDone = true;
        // Numbers sampled while waiting are stale now; the summary says how it ended.
        delete row.metrics;
        delete row.note;
        delete row.asking;
        return true;
      }
      case 'step.failed': {
        const row = this.row(e.step);
        row.status = 'failed';
        row.error = e.error;
        row.causes = e.causes;
        if (row.startedAt !== undefined) row.durationMs = now - row.startedAt;
        delete row.note;
        return true;
      }
      case 'step.skipped': {
        const row = this.row(e.step);
        row.status = 'skipped';
        row.summary = `skipped: ${e.reason}`;
        return true;
      }
      case 'gate.waiting': {
        const row = this.row(e.step);
        row.status = 'waiting';
        row.summary = 'waiting for approval';
        delete row.asking;
        return true;
      }
      case 'gate.approved':
        return true;
      case 'run.finished':
        this.finished = { status: e.status, durationMs: e.durationMs, ...(e.step ? { step: e.step } : {}) };
        return true;
      default:
        return false;
    }
  }

  /** A gate is being put to a person. */
  asking(step: string, on: boolean): void {
    const row = this.row(step);
    if (on) {
      row.asking = true;
      row.status = 'waiting';
    } else {
      delete row.asking;
    }
  }

  /** The steps before `step` that have something to show: the evidence a person weighs at a gate. */
  evidenceBefore(step: string): StepRow[] {
    const i = this.steps.findIndex((s) => s.id === step);
    return this.steps.slice(0, i < 0 ? this.steps.length : i).filter((s) => s.status !== 'pending' || s.summary);
  }

  private row(id: string, title = id): StepRow {
    let row = this.steps.find((s) => s.id === id);
    if (!row) {
      row = { id, title, status: 'pending' };
      this.steps.push(row);
    }
    return row;
  }
}
