import { fitWidth } from './text.js';

/** The little a live region needs of a terminal stream (process.stdout has it all). */
export interface TerminalOut {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

const ESC = '\x1b[';
const showCursor = `${ESC}?25h`;
const hideCursor = `${ESC}?25l`;

/**
 * Lines at the bottom of a terminal that are redrawn in place: the cursor goes back up over what
 * was drawn, each line is rewritten and cleared to its end, and anything left below is erased.
 * Lines are cut to the terminal's width, so each takes exactly one row and the count stays right.
 */
export class LiveRegion {
  private drawn = 0;
  private cursorHidden = false;
  private readonly restoreCursor = () => {
    this.out.write(showCursor);
  };

  constructor(private readonly out: TerminalOut) {}

  /** Usable columns: one less than the terminal's, so no line ever wraps. */
  get width(): number {
    return Math.max(20, (this.out.columns ?? 80) - 1);
  }

  /** Rows a redrawn region may take: more than the screen holds could not be reached again. */
  get height(): number {
    return Math.max(3, (this.out.rows ?? 24) - 1);
  }

  /** Replaces what the region shows. A `final` frame may be taller and wider than the screen: it is never redrawn. */
  draw(lines: readonly string[], final = false): void {
    let shown = lines;
    if (!final && shown.length > this.height) shown = [...shown.slice(0, this.height - 1), '…'];
    if (!final && !this.cursorHidden) {
      // Put the cursor back even if the process ends abruptly.
      this.cursorHidden = true;
      process.once('exit', this.restoreCursor);
      this.out.write(hideCursor);
    }
    let frame = this.drawn > 0 ? `\r${ESC}${this.drawn}A` : '\r';
    // Wrapped lines would leave old text beside them: erase the old frame first.
    if (final) frame += `${ESC}J`;
    // A final frame keeps whole lines (the terminal wraps them): nothing will count its rows again.
    for (const line of shown) frame += `${ESC}2K${final ? line : fitWidth(line, this.width)}\n`;
    frame += `${ESC}J`;
    this.drawn = shown.length;
    this.out.write(frame);
    if (final) this.release();
  }

  /** Erases the region; the cursor goes back to where it began, ready for other output. */
  clear(): void {
    if (this.drawn > 0) this.out.write(`\r${ESC}${this.drawn}A${ESC}J`);
    this.drawn = 0;
  }

  /** Leaves what is drawn on the screen: later output goes below it. */
  release(): void {
    this.drawn = 0;
    this.pause();
  }

  /** Gives the cursor back for a while (a prompt below the region); the next draw takes it again. */
  pause(): void {
    if (this.cursorHidden) {
      this.cursorHidden = false;
      process.removeListener('exit', this.restoreCursor);
      this.out.write(showCursor);
    }
  }
}
