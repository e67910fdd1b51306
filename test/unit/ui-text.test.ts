import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { formatTable } from '../../src/ui/table.js';
import stringWidth from 'string-width';
import { fitWidth, narrowOnly, padVisible, stripAnsi, visibleWidth, wrapText } from '../../src/ui/text.js';

const red = new Chalk({ level: 1 }).red;
const family = '👨‍👩‍👧‍👦'; // four emoji joined by ZWJ: one cluster, two columns
const flag = '🇯🇵'; // two regional indicators: one cluster, two columns
const acute = 'e\u0301'; // e and a combining acute accent: one column

describe('text width: what a terminal shows', () => {
  it('counts CJK and emoji as two columns, combining marks and joiners as none', () => {
    expect(visibleWidth('日本語')).toBe(6);
    expect(visibleWidth('漢字abc')).toBe(7);
    expect(visibleWidth('👍')).toBe(2);
    expect(visibleWidth('👍🏽')).toBe(2);
    expect(visibleWidth(family)).toBe(2);
    expect(visibleWidth(flag)).toBe(2);
    expect(visibleWidth(`caf${acute}`)).toBe(4);
    expect(visibleWidth(red('日本') + ' ok')).toBe(7);
    // the icons of the step list stay one column
    for (const icon of ['✓', '✗', '⏸', '○', '●', '↷', '…', '·', '⠋']) expect(visibleWidth(icon)).toBe(1);
  });

  it('counts without string-width only characters string-width finds one column wide, each a cluster of its own', () => {
    const segmenter = new Intl.Segmenter();
    const counted: string[] = [];
    for (let cp = 0; cp <= 0xffff; cp++) {
      const ch = String.fromCharCode(cp);
      if (!narrowOnly.test(ch)) continue;
      counted.push(ch);
      expect(stringWidth(ch), `U+${cp.toString(16)}`).toBe(1);
      expect([...segmenter.segment(`a${ch}a`)].length, `U+${cp.toString(16)}`).toBe(3);
    }
    expect(counted.length).toBeGreaterThan(1000);
  });

  it('pads by columns', () => {
    expect(padVisible('日本', 6)).toBe('日本  ');
    expect(padVisible(red('👍'), 4, 'right')).toBe(`  ${red('👍')}`);
    expect(padVisible(family, 3)).toBe(`${family} `);
    expect(padVisible(`caf${acute}`, 5)).toBe(`caf${acute} `);
  });

  it('cuts by columns, never inside a wide character or a cluster', () => {
    expect(fitWidth('日本語のタイトル', 7)).toBe('日本語…');
    // a wide character that would only half fit is left out
    expect(fitWidth('日本語のタイトル', 6)).toBe('日本…');
    expect(visibleWidth(fitWidth('日本語のタイトル', 6))).toBe(5);
    expect(fitWidth(`${family}${family}`, 3)).toBe(`${family}…`);
    expect(fitWidth(`${family} family`, 4)).toBe(`${family} …`);
    expect(fitWidth(`${flag}🇫🇷🇩🇪`, 4)).toBe(`${flag}…`);
    expect(fitWidth(`${flag}🇫🇷🇩🇪`, 6)).toBe(`${flag}🇫🇷🇩🇪`);
    expect(fitWidth(`${flag}🇫🇷🇩🇪`, 5)).toBe(`${flag}🇫🇷…`);
    expect(fitWidth(`caf${acute} au lait`, 5)).toBe(`caf${acute}…`);
    expect(fitWidth('日本語', 6)).toBe('日本語');
    expect(fitWidth('日本語', 1)).toBe('…');
  });

  it('cuts colored wide text, keeping the colors and resetting them', () => {
    const cut = fitWidth(`${red('日本語')} title`, 6);
    expect(stripAnsi(cut)).toBe('日本…');
    expect(cut.startsWith('\x1b[31m')).toBe(true);
    expect(cut.endsWith('\x1b[0m')).toBe(true);
    const emoji = fitWidth(`${red(family)} ${red('done')}`, 6);
    expect(stripAnsi(emoji)).toBe(`${family} do…`);
    expect(visibleWidth(emoji)).toBe(6);
  });

  it('wraps by columns', () => {
    expect(wrapText('日本語 テキスト です', 8)).toEqual(['日本語', 'テキスト', 'です']);
    expect(wrapText('日本語日本語', 5)).toEqual(['日本', '語日', '本語']);
    expect(wrapText(`${family}${family}${family}`, 4)).toEqual([`${family}${family}`, family]);
    // a cluster wider than the line still gets a line of its own
    expect(wrapText('日本', 1)).toEqual(['日', '本']);
  });

  it('aligns table columns holding CJK and emoji', () => {
    expect(formatTable([
      ['日本語', 'x'],
      [`${flag} ok`, 'y'],
      ['abc', 'z'],
    ])).toEqual(['日本語  x', `${flag} ok   y`, 'abc     z']);
  });
});
