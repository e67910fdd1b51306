import type { Progress } from '../steps/contract.js';
import type { RunStatus } from '../state/run-state.js';

/** Everything a run reports, in order; the ui renders them, --json prints them one per line. */
export type RunEvent =
  | { type: 'run.started'; run: string; playbook: string; resumed: boolean; steps: number }
  | { type: 'step.started'; run: string; step: string; title: string; attempt: number }
  | { type: 'step.checked'; run: string; step: string; done: boolean; summary: string }
  | { type: 'step.applied'; run: string; step: string; outputs?: Record<string, unknown> }
  | { type: 'step.progress'; run: string; step: string; progress: Progress; elapsedMs: number }
  | { type: 'step.retry'; run: string; step: string; error: string; delayMs: number; retry: number }
  | { type: 'step.done'; run: string; step: string; summary: string; durationMs: number; alreadyDone?: boolean }
  | { type: 'step.failed'; run: string; step: string; error: string; causes: string[] }
  | { type: 'gate.waiting'; run: string; step: string; message: string; continueWith: string }
  | { type: 'gate.approved'; run: string; step: string; by: string; via: string }
  | { type: 'run.finished'; run: string; status: RunStatus | 'interrupted'; step?: string; durationMs: number };

/** Stamps events with a time before handing them on. */
export type EventSink = (event: RunEvent & { at?: string }) => void;
