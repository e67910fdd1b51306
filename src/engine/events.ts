import type { Progress } from '../steps/contract.js';
import type { RunStatus, StepStatus } from '../state/run-state.js';

/** One step as a run starts (or resumes): enough for a live view to list every step up front. */
export interface StepOverview {
  id: string;
  title: string;
  status: StepStatus;
  /** The step's latest summary, for a resumed run. */
  summary?: string;
  /** How long the step may take to converge; absent for gates. */
  timeoutMs?: number;
}

/** Everything a run reports, in order; the ui renders them, --json prints them one per line. */
export type RunEvent =
  | { type: 'run.started'; run: string; playbook: string; resumed: boolean; steps: number; stepList: StepOverview[] }
  | { type: 'step.started'; run: string; step: string; title: string; attempt: number }
  | { type: 'step.checked'; run: string; step: string; done: boolean; summary: string }
  | { type: 'step.applied'; run: string; step: string; outputs?: Record<string, unknown> }
  | { type: 'step.progress'; run: string; step: string; progress: Progress; elapsedMs: number }
  | { type: 'step.retry'; run: string; step: string; error: string; delayMs: number; retry: number }
  | { type: 'step.done'; run: string; step: string; summary: string; durationMs: number; alreadyDone?: boolean }
  | { type: 'step.failed'; run: string; step: string; error: string; causes: string[] }
  | { type: 'gate.waiting'; run: string; step: string; message: string; continueWith: string }
  | { type: 'gate.approved'; run: string; step: string; by: string; via: string }
  | { type: 'step.skipped'; run: string; step: string; by: string; reason: string }
  | { type: 'rollback.started'; run: string; playbook: string; to?: string; by: string }
  | { type: 'step.undone'; run: string; step: string; summary: string; outputs?: Record<string, unknown> }
  | { type: 'step.not-undoable'; run: string; step: string; reason: string }
  | { type: 'step.undo-failed'; run: string; step: string; error: string; causes: string[] }
  | { type: 'rollback.finished'; run: string; status: 'rolled-back' | 'failed' | 'interrupted'; undone: number; notUndoable: number; step?: string; durationMs: number }
  | { type: 'run.finished'; run: string; status: RunStatus | 'interrupted'; step?: string; durationMs: number };

/** Stamps events with a time before handing them on. */
export type EventSink = (event: RunEvent & { at?: string }) => void;
