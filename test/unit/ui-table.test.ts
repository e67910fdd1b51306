import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { loadColors, paint } from '../../src/ui/paint.js';
import { formatTable } from '../../src/ui/table.js';
import { fitWidth, padVisible, stripAnsi, visibleWidth, wrapText } from '../../src/ui/text.js';

await loadColors(); // paint(true) colors with chalk once it is loaded

const red = new Chalk({ level: 1 }).red;

describe('text helpers', () => {
  it('measures and pads text by what shows, not by escape codes', () => {
    expect(visibleWidth(red('failed'))).toBe(6);
    expect(visibleWidth('✓ done')).toBe(6);
    expect(padVisible(red('ok'), 4)).toBe(`${red('ok')}  `);
    expect(padVisible('7', 3, 'right')).toBe('  7');
  });

  it('cuts to a width with an ellipsis, keeping colors and resetting them', () => {
    expect(fitWidth('short', 10)).toBe('short');
    expect(fitWidth('a longer line', 8)).toBe('a longe…');
    const cut = fitWidth(`${red('error')}: something broke`, 10);
    expect(stripAnsi(cut)).toBe('error: so…');
    expect(cut.endsWith('\x1b[0m')).toBe(true);
  });

  it('wraps words to a width', () => {
    expect(wrapText('Consumers subscribe to the second topic as soon as it exists', 20)).toEqual([
      'Consumers subscribe',
      'to the second topic',
      'as soon as it exists',
    ]);
    expect(wrapText('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
  });
});

describe('formatTable', () => {
  it('aligns columns, right-aligns numbers, leaves no trailing spaces', () => {
    const lines = formatTable([
      ['RUN', 'STATUS', { text: 'STEPS', align: 'right' }, 'CURRENT'],
      ['sync-to-async-orders', 'paused', { text: '7/11', align: 'right' }, '⏸ approve-switch'],
      ['demo', 'completed', { text: '3/3', align: 'right' }, ''],
    ]);
    expect(lines).toEqual([
      'RUN                   STATUS     STEPS  CURRENT',
      'sync-to-async-orders  paused      7/11  ⏸ approve-switch',
      'demo                  completed    3/3',
    ]);
  });

  it('styles cells after padding, so colors never shift the columns', () => {
    const c = paint(true);
    const lines = formatTable([
      [{ text: 'failed', style: c.red }, 'x'],
      [{ text: 'done', style: c.green }, 'y'],
    ]);
    expect(lines.map(stripAnsi)).toEqual(['failed  x', 'done    y']);
    expect(lines[1]).toBe(`${c.green('done')}    y`);
  });

  it('drops columns that are empty in every row, and indents', () => {
    expect(formatTable([['a', '', 'b'], ['cc', '', 'd']], { indent: '  ' })).toEqual(['  a   b', '  cc  d']);
  });
});
