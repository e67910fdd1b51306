// The six styles are written here as the ANSI codes chalk writes at its level 1 (16 colors), in the
// way chalk nests and breaks them (test/unit/ui-paint.test.ts holds them to chalk's output): chalk
// itself, through supports-color, loads node:tty and node:net, about a tenth of `migrate status`.

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

/** The styles for an output: ANSI colors when color is wanted, plain text otherwise. */
export function paint(color: boolean): Painter {
  if (!color) return plain;
  return { bold: style(1, 22), dim: style(2, 22), red: style(31, 39), green: style(32, 39), yellow: style(33, 39), cyan: style(36, 39) };
}

/** One style as chalk applies it: a close code inside the text reopens the style, and a line break closes and reopens it. */
function style(openCode: number, closeCode: number): (s: string) => string {
  const open = `\u001B[${openCode}m`;
  const close = `\u001B[${closeCode}m`;
  return (s) => {
    if (!s) return s;
    let text = s.includes('\u001B') ? s.replaceAll(close, close + open) : s;
    if (text.includes('\n')) text = text.replace(/\r?\n/g, (lf) => close + lf + open);
    return open + text + close;
  };
}

/** Color when writing to a terminal, unless NO_COLOR is set (https://no-color.org). */
export function wantsColor(stream: { isTTY?: boolean }, env: Record<string, string | undefined> = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}
