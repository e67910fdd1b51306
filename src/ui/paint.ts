import type { ChalkInstance } from 'chalk';

/** The few styles the renderers use; identity functions when color is off. */
export interface Painter {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const plain: Painter = { bold: id, dim: id, red: id, green: id, yellow: id, cyan: id };

function id(s: string): string {
  return s;
}

let chalk: ChalkInstance | undefined;

/**
 * Loads chalk, once, for a process whose output wants color: the CLI does it at start when stdout
 * or stderr does (wantsColor). Not loaded otherwise: chalk's color detection loads node:tty and
 * node:net, about a tenth of `migrate status` in CI, where nothing is colored.
 */
export async function loadColors(): Promise<void> {
  if (chalk) return;
  const { Chalk } = await import('chalk');
  chalk = new Chalk({ level: 1 });
}

/** The styles for an output: chalk's ANSI colors when color is wanted (and loadColors ran), plain text otherwise. */
export function paint(color: boolean): Painter {
  if (!color || !chalk) return plain;
  const c = chalk;
  return { bold: c.bold, dim: c.dim, red: c.red, green: c.green, yellow: c.yellow, cyan: c.cyan };
}

/** Color when writing to a terminal, unless NO_COLOR is set (https://no-color.org). */
export function wantsColor(stream: { isTTY?: boolean }, env: Record<string, string | undefined> = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}
