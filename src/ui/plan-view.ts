import { planVerdicts, type PlannedStep, type PlanResult, type PlanVerdict } from '../engine/plan.js';
import type { Painter } from './paint.js';

/** The object `migrate plan --json` prints. */
export function planJson(p: PlanResult): Record<string, unknown> {
  return {
    playbook: p.playbook,
    params: p.params,
    ...(p.interrupted ? { interrupted: true } : {}),
    steps: p.steps.map((s) => ({
      id: s.id,
      uses: s.uses,
      title: s.title,
      verdict: s.verdict,
      reason: s.reason,
      ...(s.differences ? { differences: s.differences } : {}),
      ...(s.after ? { after: s.after } : {}),
    })),
  };
}

function paintVerdict(v: PlanVerdict, c: Painter): (s: string) => string {
  switch (v) {
    case 'satisfied':
      return c.green;
    case 'would act':
      return c.cyan;
    case 'would wait':
      return c.yellow;
    case 'drift':
      return c.red;
    case 'cannot check':
      return c.dim;
  }
}

/** "judged before create-topic, producer-on and 3 more ran": the world will have moved by then. */
function afterNote(after: readonly string[]): string {
  const shown = after.slice(0, 2).join(', ');
  return `judged before ${shown}${after.length > 2 ? ` and ${after.length - 2} more` : ''} ran`;
}

/** The plan as a table: step, type, verdict, why; drift differences one per line below their step. */
export function renderPlan(p: PlanResult, c: Painter): string {
  const params = Object.entries(p.params);
  const lines = [c.bold(`Plan for playbook ${p.playbook}`) + c.dim(' (live checks; nothing is changed)')];
  if (params.length) lines.push(c.dim(`params: ${params.map(([k, v]) => `${k}=${v}`).join(' ')}`));
  lines.push('');
  const head = ['STEP', 'TYPE', 'VERDICT'];
  const widths = head.map((h, i) => Math.max(h.length, ...p.steps.map((s) => [s.id, s.uses, s.verdict][i]?.length ?? 0)));
  const pad = (text: string, i: number) => text.padEnd(widths[i] as number);
  lines.push(c.bold(`${head.map(pad).join('  ')}  WHY`));
  for (const s of p.steps) lines.push(...row(s, c, pad, widths));
  lines.push('', summaryLine(p));
  return lines.join('\n') + '\n';
}

function row(s: PlannedStep, c: Painter, pad: (text: string, i: number) => string, widths: number[]): string[] {
  // Drift names its differences one per line below, not run together in the reason.
  const listed = s.verdict === 'drift' && s.differences?.length ? `: ${s.differences.join('; ')}` : '';
  const why = listed && s.reason.endsWith(listed) ? `${s.reason.slice(0, -listed.length)}:` : s.reason;
  const note = s.after ? c.dim(` (${afterNote(s.after)})`) : '';
  const out = [`${pad(s.id, 0)}  ${pad(s.uses, 1)}  ${paintVerdict(s.verdict, c)(pad(s.verdict, 2))}  ${why}${note}`];
  if (why !== s.reason) {
    const indent = ' '.repeat(widths.reduce((sum, w) => sum + w + 2, 0));
    for (const d of s.differences ?? []) out.push(`${indent}${c.red('-')} ${d}`);
  }
  return out;
}

function summaryLine(p: PlanResult): string {
  const parts = planVerdicts.map((v) => [v, p.steps.filter((s) => s.verdict === v).length] as const).filter(([, n]) => n > 0).map(([v, n]) => `${n} ${v}`);
  const head = p.interrupted ? `Interrupted after ${p.steps.length} steps: ` : `${p.steps.length} steps: `;
  return `${head}${parts.join(', ')}. Nothing was changed.`;
}
