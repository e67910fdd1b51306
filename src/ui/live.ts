import type { Writable } from 'node:stream';
import type { RunEvent } from '../engine/events.js';
import { formatDuration } from '../util/time.js';
import type { Painter } from './paint.js';
import { waitLine } from './progress.js';
import { LiveRegion, type TerminalOut } from './region.js';
import type { Renderer } from './renderer.js';
import { RunModel, type StepRow } from './run-model.js';
import { visibleWidth } from './text.js';

/** A live step list needs a terminal that moves its cursor, and colors (NO_COLOR means plain lines). */
export function wantsLiveView(out: { isTTY?: boolean }, color: boolean, env: Record<string, string | undefined> = process.env): boolean {
  return color && Boolean(out.isTTY) && env.TERM !== 'dumb';
}

const spinner = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** At most ten frames a second. */
const FRAME_MS = 100;
/** A step that converges within this long gets no progress bar (it would only flicker). */
const BAR_AFTER_MS = 1000;
const TITLE_MAX = 40;

export interface StepListOptions {
  now: number;
  c: Painter;
  /** Rows available; done steps at the top fold into one line when the list is taller. */
  height?: number;
  /** The run is over: no spinners, no bars. */
  final?: boolean;
}

/** The step list as lines: icon, id, title, latest summary; a progress line under a step being waited for. */
export function renderStepList(model: RunModel, o: StepListOptions): string[] {
  const { c, now } = o;
  const rows = model.steps;
  const idWidth = Math.max(0, ...rows.map((r) => r.id.length));
  const titles = rows.map((r) => (r.title === r.id ? '' : r.title));
  const titleWidth = Math.min(TITLE_MAX, Math.max(0, ...titles.map((t) => t.length)));
  const frame = Math.floor(now / FRAME_MS) % spinner.length;

  const groups = rows.map((r, i) => {
    const title = clip(titles[i] as string, TITLE_MAX);
    const head = `${icon(r, c, frame, o.final)} ${c.bold(r.id.padEnd(idWidth))}${titleWidth ? `  ${title.padEnd(titleWidth)}` : ''}`;
    const elapsed = r.startedAt === undefined ? 0 : now - r.startedAt;
    const bar = !o.final && r.status === 'running' && (r.metrics !== undefined || elapsed >= BAR_AFTER_MS);
    const lines = [`${head}  ${detail(r, c, now, o.final, bar)}`.trimEnd()];
    if (bar) {
      const info = { startedAt: r.startedAt ?? now, ...(r.timeoutMs !== undefined ? { timeoutMs: r.timeoutMs } : {}), ...(r.metrics ? { metrics: r.metrics } : {}), ...(r.initialLag !== undefined ? { initialLag: r.initialLag } : {}) };
      lines.push(`${' '.repeat(idWidth + 4)}${waitLine(info, now, 24, c)}`);
    }
    return { row: r, lines };
  });
  return fold(groups, o.height, c);
}

/** Fits the list into `height` rows: finished steps from the top fold into one line, then pending ones from the bottom. */
function fold(groups: { row: StepRow; lines: string[] }[], height: number | undefined, c: Painter): string[] {
  const count = () => groups.reduce((n, g) => n + g.lines.length, 0);
  if (height === undefined || count() <= height) return groups.flatMap((g) => g.lines);
  let folded = 0;
  while (count() + 1 > height && groups[0] && (groups[0].row.status === 'done' || groups[0].row.status === 'skipped')) {
    groups.shift();
    folded += 1;
  }
  let hidden = 0;
  while (count() + (folded ? 1 : 0) + 1 > height && groups.length > 1 && groups.at(-1)?.row.status === 'pending') {
    groups.pop();
    hidden += 1;
  }
  return [
    ...(folded ? [`${c.green('✓')} ${c.dim(`${folded} earlier step${folded === 1 ? '' : 's'} done`)}`] : []),
    ...groups.flatMap((g) => g.lines),
    ...(hidden ? [`${c.dim('○')} ${c.dim(`${hidden} more step${hidden === 1 ? '' : 's'}`)}`] : []),
  ];
}

function icon(r: StepRow, c: Painter, frame: number, final?: boolean): string {
  switch (r.status) {
    case 'pending':
      return c.dim('○');
    case 'running':
      return final ? c.yellow('○') : c.cyan(spinner[frame] as string);
    case 'waiting':
      return c.yellow('⏸');
    case 'done':
      return c.green('✓');
    case 'failed':
      return c.red('✗');
    case 'skipped':
      return c.dim('↷');
  }
}

function detail(r: StepRow, c: Painter, now: number, final?: boolean, bar?: boolean): string {
  switch (r.status) {
    case 'pending':
      return r.summary ? c.dim(r.summary) : '';
    case 'running': {
      // The progress line under the step shows the time once there is one.
      const took = r.startedAt === undefined || bar ? '' : c.dim(` (${formatDuration(now - r.startedAt)})`);
      if (final) return c.yellow('interrupted') + (r.summary ? c.dim(`  ${r.summary}`) : '');
      return (r.summary ?? c.dim('checking…')) + took + (r.note ? `  ${c.yellow(`! ${r.note}`)}` : '');
    }
    case 'waiting':
      return r.asking ? c.yellow('waiting for your answer') : c.yellow(r.summary ?? 'waiting for approval');
    case 'done': {
      const how = r.alreadyDone ? ' (already satisfied)' : r.durationMs ? ` (${formatDuration(r.durationMs)})` : '';
      return (r.summary ?? '') + c.dim(how);
    }
    case 'failed':
      return c.red(r.error ?? r.summary ?? 'failed');
    case 'skipped':
      return c.dim(r.summary ?? 'skipped');
  }
}

function clip(s: string, width: number): string {
  return visibleWidth(s) <= width ? s : [...s].slice(0, width - 1).join('') + '…';
}

/**
 * The terminal view of a run: every step listed from the start and redrawn in place as events
 * arrive (at most ten times a second), a progress line under the step being waited for, and the
 * final list left on screen. What needs reading after the run (why a step failed, the command that
 * continues a paused run, how it ended) is printed below the list by the plain line renderer.
 */
export class LiveRenderer implements Renderer {
  private readonly model = new RunModel();
  private readonly region: LiveRegion;
  private timer: NodeJS.Timeout | undefined;
  private held = false;
  private active = false;
  private dirty = false;
  /** Shown below the list when the run ends. */
  private readonly after: RunEvent[] = [];

  constructor(
    out: Writable,
    private readonly c: Painter,
    private readonly lines: Renderer,
    private readonly now: () => number = Date.now,
  ) {
    this.region = new LiveRegion(out as Writable & TerminalOut);
  }

  event(e: RunEvent): void {
    if (e.type === 'run.started') {
      this.lines.event(e); // the header line stays above the list
      this.model.apply(e, this.now());
      this.active = true;
      this.draw();
      this.timer = setInterval(() => this.tick(), FRAME_MS);
      this.timer.unref();
      return;
    }
    if (!this.model.apply(e, this.now()) || !this.active) {
      // Events the list does not show (rollback) are printed as lines, above the list.
      this.region.clear();
      this.lines.event(e);
      this.dirty = true;
      if (this.active && !this.held) this.draw();
      return;
    }
    if (e.type === 'step.failed' || e.type === 'gate.waiting') this.after.push(e);
    if (e.type === 'run.finished') {
      this.finish();
      this.lines.event(e);
      return;
    }
    this.dirty = true;
  }

  prompting(step: string): () => void {
    this.model.asking(step, true);
    if (this.active) {
      this.draw();
      this.region.pause();
    }
    this.held = true;
    return () => {
      this.held = false;
      this.model.asking(step, false);
      this.dirty = true;
    };
  }

  close(): void {
    if (this.active) this.finish();
  }

  private tick(): void {
    if (this.held) return;
    // Spinners and elapsed times move even when no event came.
    if (this.dirty || this.model.steps.some((s) => s.status === 'running')) this.draw();
  }

  private draw(final = false): void {
    this.dirty = false;
    // The final frame is drawn whole: it is never redrawn, so it may scroll.
    const lines = renderStepList(this.model, { now: this.now(), c: this.c, final, ...(final ? {} : { height: this.region.height }) });
    this.region.draw(lines, final);
  }

  /** The last frame, left on screen, then what needs reading below it. */
  private finish(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.draw(true);
    this.active = false;
    for (const e of this.after.splice(0)) this.lines.event(e);
  }
}
