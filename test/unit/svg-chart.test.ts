import { describe, expect, it } from 'vitest';
import { decadeTicks, formatValue, niceTicks, renderLineChart, timeTicks } from '../../src/ui/svg-chart.js';
import { assertWellFormedXml } from '../support/xml.js';

const t0 = Date.parse('2026-11-29T10:00:00.000Z');
const lag = { name: 'drained', points: [0, 5, 10, 15, 20].map((s, i) => ({ t: t0 + s * 1000, v: 3000 - i * 700 })) };

describe('niceTicks', () => {
  it('covers the range with round steps of 1, 2 or 5 times a power of ten', () => {
    expect(niceTicks(0, 3000)).toEqual([0, 1000, 2000, 3000]);
    expect(niceTicks(0, 47)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(niceTicks(-0.3, 0.7)).toContain(0);
    const ticks = niceTicks(0.013, 0.091);
    expect(ticks[0]).toBeLessThanOrEqual(0.013);
    expect(ticks.at(-1)).toBeGreaterThanOrEqual(0.091);
  });
  it('widens a range of one value, and never loops on huge or non-finite ones', () => {
    expect(niceTicks(0, 0)).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(niceTicks(7, 7).length).toBeGreaterThan(1);
    const huge = niceTicks(0, 1e300);
    expect(huge[0]).toBe(0);
    expect(huge.at(-1)).toBeGreaterThanOrEqual(1e300);
    expect(huge.length).toBeLessThanOrEqual(11);
    expect(niceTicks(0, Infinity)).toEqual([]);
  });
});

describe('timeTicks', () => {
  it('labels round UTC clock times, seconds for short spans and minutes for long ones', () => {
    expect(timeTicks(t0, t0 + 20_000).map((x) => x.label)).toEqual(['10:00:00', '10:00:05', '10:00:10', '10:00:15', '10:00:20']);
    expect(timeTicks(t0 + 7_000, t0 + 40 * 60_000).map((x) => x.label)).toEqual(['10:10', '10:20', '10:30', '10:40']);
  });
});

describe('formatValue', () => {
  it('keeps labels short at every size', () => {
    expect([0, 0.25, 12.5, 950, 1500, 12_000_000, 3e9, 1.2e18, -2500].map(formatValue)).toEqual(['0', '0.25', '12.5', '950', '1.5k', '12M', '3G', '1.2e18', '-2.5k']);
  });
});

describe('renderLineChart', () => {
  it('draws a well-formed SVG with a title, ticks, time labels and one path per series', () => {
    const svg = renderLineChart({ title: 'Lag of drained', series: [lag], yLabel: 'messages' });
    const elements = assertWellFormedXml(svg);
    expect(elements[0]).toBe('svg');
    expect(svg).toContain('<title>Lag of drained</title>');
    expect(elements.filter((e) => e === 'path')).toHaveLength(2); // the axes and the line
    expect(svg).toContain('>3k</text>');
    expect(svg).toContain('>10:00:20</text>');
    expect(svg).toContain('>messages</text>');
  });

  it('draws sizes on a log scale: whole decades, 10 to 10M evenly apart, labelled 100, 1k, 10M', () => {
    expect(decadeTicks(2, 7).map((t) => t.label)).toEqual(['100', '1k', '10k', '100k', '1M', '10M']);
    const cost = { name: 'verify', points: [1e5, 1e6, 1e7].map((size, i) => ({ t: size, v: [0.4, 3, 31][i] as number })) };
    const svg = renderLineChart({ title: 'Cost', series: [cost], x: { scale: 'log10', label: 'events' }, yLabel: 's' });
    assertWellFormedXml(svg);
    expect(svg).toContain('>events</text>');
    expect(svg).not.toContain('time (UTC)');
    // The three points sit a decade apart: equal steps in x.
    const xs = [...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(xs).toHaveLength(3);
    expect(Math.abs(xs[1]! - xs[0]! - (xs[2]! - xs[1]!))).toBeLessThan(0.5);
    expect(svg).toContain('>100k</text>');
    expect(svg).toContain('>10M</text>');
  });

  it('draws values on a log scale too: a decade of value is the same height wherever it is', () => {
    const cost = { name: 'verify', points: [1e5, 1e6, 1e7, 1e8].map((size, i) => ({ t: size, v: [0.2, 2, 20, 200][i] as number })) };
    const svg = renderLineChart({ title: 'Cost', series: [cost], x: { scale: 'log10', label: 'events' }, y: { scale: 'log10' }, yLabel: 's' });
    assertWellFormedXml(svg);
    const ys = [...svg.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(ys).toHaveLength(4);
    // Each point is ten times the one before: equal steps up.
    expect(ys[0]! - ys[1]!).toBeGreaterThan(10);
    expect(Math.abs(ys[0]! - ys[1]! - (ys[2]! - ys[3]!))).toBeLessThan(0.5);
    // Ticks at whole decades around the values: 0.1 to 1k.
    for (const label of ['>0.1</text>', '>1</text>', '>100</text>', '>1k</text>']) expect(svg).toContain(label);
  });

  it('is deterministic: the same input gives the same bytes', () => {
    expect(renderLineChart({ title: 'x', series: [lag] })).toBe(renderLineChart({ title: 'x', series: [{ ...lag, points: [...lag.points].reverse() }] }));
  });

  it('escapes every text it draws', () => {
    const svg = renderLineChart({ title: 'lag <of> "a" & b', series: [lag, { name: '</text><script>x</script>', points: lag.points }], yLabel: "it's" });
    assertWellFormedXml(svg);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;/text&gt;&lt;script&gt;');
  });

  it('says "no data" for no points, and marks a single point', () => {
    const empty = renderLineChart({ title: 'nothing', series: [{ name: 'a', points: [] }] });
    assertWellFormedXml(empty);
    expect(empty).toContain('>no data</text>');
    const one = renderLineChart({ title: 'one', series: [{ name: 'a', points: [{ t: t0, v: 5 }] }] });
    assertWellFormedXml(one);
    expect(one.match(/<circle /g)).toHaveLength(1);
    expect(one).not.toContain('NaN');
  });

  it('draws huge and non-finite values without NaN or Infinity in the coordinates', () => {
    const svg = renderLineChart({ title: 'huge', series: [{ name: 'a', points: [{ t: t0, v: 1e300 }, { t: t0 + 1000, v: Number.NaN }, { t: t0 + 2000, v: 5e299 }, { t: t0 + 3000, v: -1e300 }] }] });
    assertWellFormedXml(svg);
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg).toContain('>1e300</text>');
  });
});

describe('assertWellFormedXml', () => {
  it('refuses what is not XML', () => {
    for (const bad of ['<a><b></a></b>', '<a>x & y</a>', '<a b="1" b="2"/>', '<a>', '<a/><b/>', '<a b=1/>']) expect(() => assertWellFormedXml(bad), bad).toThrow(/not well-formed/);
  });
});
