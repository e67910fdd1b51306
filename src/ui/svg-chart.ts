/**
 * A line chart as a standalone SVG document: series of (time, value) on a time axis, with nice
 * ticks, a title and a legend. Pure and dependency-free, and deterministic (the same input gives
 * the same bytes: no random ids, no clock, no locale), so reports can be compared and tested.
 * `migrate report` draws lag and event rate with it; anything else that wants a static chart can.
 */
import { xmlAttr, xmlText } from '../util/xml.js';

/** One line: its name in the legend, and its points (t in ms since the epoch). */
export interface ChartSeries {
  name: string;
  points: readonly { t: number; v: number }[];
}

/** What to draw. */
export interface LineChartOptions {
  title: string;
  series: readonly ChartSeries[];
  /** The y axis' label, e.g. "events/s". */
  yLabel?: string;
  /** The x axis: time (the default; `t` in ms since the epoch), or sizes on a log scale (`t` > 0, ticks at powers of ten). */
  x?: { scale: 'log10'; label: string };
  /** The y axis on a log scale (values > 0, ticks at powers of ten): for costs that span decades. */
  y?: { scale: 'log10' };
  width?: number;
  height?: number;
}

/** Colours that stay apart for the colour-blind (Okabe-Ito), in legend order. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

/** About `count` round values (1, 2 or 5 times a power of ten apart) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) / 2;
    return niceTicks(min - pad, max + pad, count);
  }
  const raw = (max - min) / Math.max(1, count);
  if (!Number.isFinite(raw) || raw === 0) return [min, max];
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const first = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let i = 0; ticks.length < 50; i++) {
    const v = first + i * step;
    ticks.push(Math.abs(v) < step / 1e6 ? 0 : v); // no "-0" or 1e-17 from rounding
    if (v >= max) break;
  }
  return ticks;
}

const TIME_STEPS_MS = [1, 2, 5, 10, 15, 30].map((s) => s * 1000).concat([1, 2, 5, 10, 15, 30].map((m) => m * 60_000), [1, 2, 3, 6, 12, 24].map((h) => h * 3_600_000));

/** Round clock times (UTC) covering [t0, t1], about `count` of them, with their labels (HH:MM:SS, or HH:MM from one minute apart). */
export function timeTicks(t0: number, t1: number, count = 5): { t: number; label: string }[] {
  if (!Number.isFinite(t0) || !Number.isFinite(t1) || t1 < t0) return [];
  const span = Math.max(t1 - t0, 1000);
  const step = TIME_STEPS_MS.find((s) => span / s <= count) ?? Math.ceil(span / count / 86_400_000) * 86_400_000;
  const ticks: { t: number; label: string }[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1 && ticks.length < 50; t += step) {
    const iso = new Date(t).toISOString();
    ticks.push({ t, label: step >= 86_400_000 ? iso.slice(5, 10) : step >= 60_000 ? iso.slice(11, 16) : iso.slice(11, 19) });
  }
  return ticks;
}

/** A tick label: 950, 1.5k, 12M, 3G, 1.2e18; never more than a few characters. */
export function formatValue(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e15) return v.toExponential(1).replace('e+', 'e').replace('.0e', 'e');
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, unit] of units) if (abs >= size) return `${trim(v / size)}${unit}`;
  return trim(v);
}

function trim(v: number): string {
  return String(Number(v.toFixed(Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2)));
}

/** Coordinates with two decimals at most: the same input gives the same bytes, and files stay small. */
function n(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** Ticks at each power of ten from 10^d0 to 10^d1, labelled 100, 1k, 10M. */
export function decadeTicks(d0: number, d1: number): { t: number; label: string }[] {
  const out: { t: number; label: string }[] = [];
  for (let d = d0; d <= d1; d++) {
    const t = 10 ** d;
    const unit = d >= 9 ? [1e9, 'G'] : d >= 6 ? [1e6, 'M'] : d >= 3 ? [1e3, 'k'] : [1, ''];
    out.push({ t, label: `${t / (unit[0] as number)}${unit[1] as string}` });
  }
  return out;
}

/** The chart as an SVG document (no XML declaration, so it can also sit inline in HTML). */
export function renderLineChart(o: LineChartOptions): string {
  const width = o.width ?? 720;
  const height = o.height ?? 300;
  const series = o.series.map((s) => ({ name: s.name, points: s.points.filter((p) => Number.isFinite(p.t) && Number.isFinite(p.v)).toSorted((a, b) => a.t - b.t) }));
  const all = series.flatMap((s) => s.points);
  const legendRows = series.length > 1 ? Math.ceil(series.length / 4) : 0;
  const plot = { left: 64, top: 36, right: width - 16, bottom: height - 40 - legendRows * 18 };
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${xmlAttr(o.title)}">`,
    `<title>${xmlText(o.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" ${FONT} font-size="15" font-weight="600" fill="#1f2328">${xmlText(o.title)}</text>`,
  ];
  if (all.length === 0) {
    out.push(`<rect x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}" fill="none" stroke="#d0d7de"/>`);
    out.push(`<text x="${(plot.left + plot.right) / 2}" y="${(plot.top + plot.bottom) / 2}" text-anchor="middle" ${FONT} font-size="13" fill="#656d76">no data</text>`);
    out.push('</svg>');
    return out.join('\n') + '\n';
  }

  const values = all.map((p) => p.v);
  const times = all.map((p) => p.t);
  const ylog = o.y?.scale === 'log10';
  let vmin = Math.min(...values);
  let vmax = Math.max(...values);
  if (vmin >= 0 && !ylog) vmin = 0; // lag and rates read against zero
  if (vmax <= 0 && vmin < 0) vmax = 0;
  // On a log scale the axis spans whole decades around the values (a value of 0 or less sits at its floor).
  const vAt = (v: number) => (ylog ? Math.log10(Math.max(v, Number.MIN_VALUE)) : v);
  let yTicks: number[];
  if (ylog) {
    const positive = values.filter((v) => v > 0);
    if (positive.length === 0) positive.push(1);
    let [d0, d1] = [Math.floor(Math.log10(Math.min(...positive))), Math.ceil(Math.log10(Math.max(...positive)))];
    if (d0 === d1) [d0, d1] = [d0 - 1, d1 + 1];
    yTicks = decadeTicks(d0, d1).map((tick) => tick.t);
  } else yTicks = niceTicks(vmin, vmax);
  const y0 = vAt(yTicks[0] ?? vmin);
  const y1 = vAt(yTicks.at(-1) ?? vmax);
  const log = o.x?.scale === 'log10';
  // On a log scale the axis spans whole decades around the sizes; a size of 0 or less has no place on it.
  const at = (t: number) => (log ? Math.log10(Math.max(t, Number.MIN_VALUE)) : t);
  let t0 = log ? Math.floor(at(Math.min(...times))) : Math.min(...times);
  let t1 = log ? Math.ceil(at(Math.max(...times))) : Math.max(...times);
  if (t1 === t0) [t0, t1] = log ? [t0 - 1, t1 + 1] : [t0 - 30_000, t1 + 30_000]; // one moment: centre it in a minute
  const x = (t: number) => plot.left + ((at(t) - t0) / (t1 - t0)) * (plot.right - plot.left);
  // Spans beyond a double (1e308 - -1e308) would be Infinity: scale through the halves.
  const y = (v: number) => plot.bottom - ((vAt(v) / 2 - y0 / 2) / (y1 / 2 - y0 / 2 || 1)) * (plot.bottom - plot.top);

  out.push(`<g ${FONT} font-size="11" fill="#656d76">`);
  for (const v of yTicks) {
    out.push(`<line x1="${plot.left}" x2="${plot.right}" y1="${n(y(v))}" y2="${n(y(v))}" stroke="#eaeef2"/>`);
    out.push(`<text x="${plot.left - 6}" y="${n(y(v) + 4)}" text-anchor="end">${xmlText(formatValue(v))}</text>`);
  }
  const xTicks = log ? decadeTicks(t0, t1) : timeTicks(t0, t1);
  for (const tick of xTicks) {
    out.push(`<line x1="${n(x(tick.t))}" x2="${n(x(tick.t))}" y1="${plot.bottom}" y2="${plot.bottom + 4}" stroke="#8c959f"/>`);
    out.push(`<text x="${n(x(tick.t))}" y="${plot.bottom + 16}" text-anchor="middle">${xmlText(tick.label)}</text>`);
  }
  out.push(`<text x="${(plot.left + plot.right) / 2}" y="${plot.bottom + 30}" text-anchor="middle">${xmlText(o.x?.label ?? 'time (UTC)')}</text>`);
  if (o.yLabel) out.push(`<text transform="translate(14 ${n((plot.top + plot.bottom) / 2)}) rotate(-90)" text-anchor="middle">${xmlText(o.yLabel)}</text>`);
  out.push('</g>');
  out.push(`<path d="M${plot.left} ${plot.top}V${plot.bottom}H${plot.right}" fill="none" stroke="#8c959f"/>`);

  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    if (s.points.length > 1) {
      const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${n(x(p.t))} ${n(y(p.v))}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2" stroke-linejoin="round"/>`);
    }
    // Few points (or one, which draws no line): show each.
    if (s.points.length <= 40) for (const p of s.points) out.push(`<circle cx="${n(x(p.t))}" cy="${n(y(p.v))}" r="2.5" fill="${colour}"/>`);
  });
  if (legendRows) {
    const col = (width - 2 * plot.left) / 4;
    out.push(`<g ${FONT} font-size="12" fill="#1f2328">`);
    series.forEach((s, i) => {
      const lx = plot.left + (i % 4) * col;
      const ly = height - 12 - (legendRows - 1 - Math.floor(i / 4)) * 18;
      out.push(`<rect x="${n(lx)}" y="${ly - 9}" width="12" height="4" fill="${PALETTE[i % PALETTE.length]}"/>`);
      out.push(`<text x="${n(lx + 16)}" y="${ly - 4}">${xmlText(s.name)}</text>`);
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
