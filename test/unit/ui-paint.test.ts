import { describe, expect, it } from 'vitest';
import { loadColors, paint, type Painter, wantsColor } from '../../src/ui/paint.js';

const styles = ['bold', 'dim', 'red', 'green', 'yellow', 'cyan'] as const satisfies readonly (keyof Painter)[];

describe('paint', () => {
  it('colors with chalk at level 1 once loadColors has loaded it, nesting and line breaks included', async () => {
    await loadColors();
    const c = paint(true);
    expect(c.red('x')).toBe('\u001B[31mx\u001B[39m');
    expect(c.bold(`a ${c.red('b')} c`)).toBe('\u001B[1ma \u001B[31mb\u001B[39m c\u001B[22m');
    expect(c.dim('x\ny')).toBe('\u001B[2mx\u001B[22m\n\u001B[2my\u001B[22m');
    for (const s of styles) expect(c[s]('t')).not.toBe('t');
  });

  it('leaves text as it is without color', () => {
    const c = paint(false);
    for (const s of styles) expect(c[s]('a\nb')).toBe('a\nb');
  });

  it('wants color at a terminal, unless NO_COLOR; FORCE_COLOR forces it', () => {
    expect(wantsColor({ isTTY: true }, {})).toBe(true);
    expect(wantsColor({ isTTY: false }, {})).toBe(false);
    expect(wantsColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
  });
});
