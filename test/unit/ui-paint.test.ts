import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { paint, type Painter } from '../../src/ui/paint.js';

// paint() writes ANSI codes itself instead of loading chalk (start-up): it must write what chalk
// at level 1 writes, nesting and line breaks included, or colored output would change.
const chalk = new Chalk({ level: 1 });
const styles = ['bold', 'dim', 'red', 'green', 'yellow', 'cyan'] as const satisfies readonly (keyof Painter)[];

describe('paint', () => {
  it('writes what chalk writes at level 1, for plain, empty, nested and multi-line text', () => {
    const c = paint(true);
    const texts = ['done', '', 'two\nlines', 'crlf\r\nline', `a ${chalk.red('red')} and ${chalk.bold('bold')} word`, `${chalk.dim('x\ny')} z`, '\n'];
    for (const outer of styles) {
      for (const text of texts) expect(c[outer](text), `${outer}(${JSON.stringify(text)})`).toBe(chalk[outer](text));
      for (const inner of styles) expect(c[outer](`a ${c[inner]('b')} c`), `${outer}(${inner})`).toBe(chalk[outer](`a ${chalk[inner]('b')} c`));
    }
  });

  it('leaves text as it is without color', () => {
    const c = paint(false);
    for (const s of styles) expect(c[s]('a\nb')).toBe('a\nb');
  });
});
