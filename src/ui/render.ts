import type { Writable } from 'node:stream';
import type { RunEvent } from '../engine/events.js';
import { formatDuration } from '../util/time.js';
import { LiveRenderer } from './live.js';
import { paint, type Painter } from './paint.js';
import type { Renderer } from './renderer.js';

export interface RendererOptions {
  json: boolean;
  out: Writable;
  color: boolean;
  /** Redraw a step list in place (a terminal; see wantsLiveView); otherwise one line per event. */
  live?: boolean;
}

export function createRenderer(o: RendererOptions): Renderer {
  if (o.json) {
    return { event: (e) => o.out.write(JSON.stringify({ ...e, at: new Date().toISOString() }) + '\n') };
  }
  const lines = new LineRenderer(o.out, paint(o.color));
  return o.live ? new LiveRenderer(o.out, paint(o.color), lines) : lines;
}

/** Plain, one line per event: readable in a terminal and in a CI log alike. */
class LineRenderer implements Renderer {
  private lastProgressAt = 0;
  private lastProgress = '';
  constructor(
    private readonly out: Writable,
    private readonly c: Painter,
  ) {}

  private line(text: string): void {
    this.out.write(text + '\n');
  }

  event(e: RunEvent): void {
    const c = this.c;
    switch (e.type) {
      case 'run.started':
        this.line(c.bold(`${e.resumed ? 'Resuming' : 'Starting'} run ${e.run}`) + c.dim(` (playbook ${e.playbook}, ${e.steps} steps)`));
        break;
      case 'step.started':
        this.line(`${c.cyan('●')} ${c.bold(e.step)}  ${e.title}${e.attempt > 1 ? c.dim(` (attempt ${e.attempt})`) : ''}`);
        break;
      case 'step.checked':
        if (!e.done) this.line(c.dim(`  … ${e.summary}`));
        this.lastProgress = e.summary;
        break;
      case 'step.applied':
        this.line(c.dim('  ↳ applied'));
        break;
      case 'step.progress': {
        const now = Date.now();
        // A line every 2s at most while waiting, and only when something changed.
        if (now - this.lastProgressAt < 2000 || e.progress.message === this.lastProgress) break;
        this.lastProgressAt = now;
        this.lastProgress = e.progress.message;
        this.line(c.dim(`  … ${e.progress.message} (waiting ${formatDuration(e.elapsedMs)})`));
        break;
      }
      case 'step.retry':
        this.line(c.yellow(`  ! ${e.error}; retry ${e.retry} in ${formatDuration(e.delayMs)}`));
        break;
      case 'step.done':
        this.line(`${c.green('✓')} ${c.bold(e.step)}  ${e.summary}${c.dim(e.alreadyDone ? ' (already satisfied)' : e.durationMs ? ` (${formatDuration(e.durationMs)})` : '')}`);
        break;
      case 'step.failed':
        this.line(`${c.red('✗')} ${c.bold(e.step)}  ${c.red(e.error)}`);
        for (const cause of e.causes) this.line(c.dim(`    caused by: ${cause}`));
        break;
      case 'gate.waiting':
        this.line(`${c.yellow('⏸')} ${c.bold(e.step)}  ${e.message}`);
        this.line(`  waiting for approval; continue with:\n    ${c.cyan(e.continueWith)}`);
        break;
      case 'gate.approved':
        break; // step.done says who approved
      case 'step.skipped':
        this.line(`${c.dim('↷')} ${c.bold(e.step)}  skipped: ${e.reason}${c.dim(` (by ${e.by})`)}`);
        break;
      case 'rollback.started':
        this.line(c.bold(`Rolling back run ${e.run}`) + c.dim(` (playbook ${e.playbook}${e.to ? `, down to step ${e.to}` : ''})`));
        break;
      case 'step.undone':
        this.line(`${c.green('↶')} ${c.bold(e.step)}  ${e.summary}`);
        break;
      case 'step.not-undoable':
        this.line(`${c.yellow('!')} ${c.bold(e.step)}  cannot be undone: ${e.reason}`);
        break;
      case 'step.undo-failed':
        this.line(`${c.red('✗')} ${c.bold(e.step)}  ${c.red(`undo failed: ${e.error}`)}`);
        for (const cause of e.causes) this.line(c.dim(`    caused by: ${cause}`));
        break;
      case 'rollback.finished': {
        const counts = c.dim(` (${e.undone} undone or reset, ${e.notUndoable} cannot be undone)`);
        if (e.status === 'rolled-back') this.line(c.green(`Run ${e.run} rolled back in ${formatDuration(e.durationMs)}`) + counts);
        else if (e.status === 'failed') this.line(c.red(`Rollback of run ${e.run} failed at step ${e.step ?? ''}; fix the cause and run the same command again to continue`));
        else this.line(c.yellow(`Rollback of run ${e.run} interrupted at step ${e.step ?? ''}; state saved, run the same command again to continue`));
        break;
      }
      case 'run.finished': {
        const took = formatDuration(e.durationMs);
        const text: Record<typeof e.status, string> = {
          completed: c.green(`Run ${e.run} completed in ${took}`),
          paused: c.yellow(`Run ${e.run} paused at gate ${e.step ?? ''}`),
          failed: c.red(`Run ${e.run} failed at step ${e.step ?? ''} after ${took}; fix the cause and run the same command again to resume`),
          interrupted: c.yellow(`Run ${e.run} interrupted during ${e.step ?? 'start-up'}; state saved, run the same command again to resume`),
          running: `Run ${e.run} running`,
          'rolled-back': `Run ${e.run} rolled back`,
        };
        this.line(text[e.status]);
        break;
      }
    }
  }
}
