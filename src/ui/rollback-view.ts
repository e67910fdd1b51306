import type { RollbackAction, RollbackPreview } from '../engine/rollback.js';
import type { Painter } from './paint.js';

const actionText: Record<RollbackAction, string> = {
  undo: 'undo',
  reset: 'reset',
  'not-undoable': 'cannot undo',
};

/** What a rollback is about to do, newest step first: shown before asking, and when --yes is needed. */
export function renderRollbackPreview(p: RollbackPreview, c: Painter): string {
  const lines = [c.bold(`Roll back run ${p.run}`) + c.dim(` (playbook ${p.playbook}${p.to ? `, down to step ${p.to}` : ''})`)];
  if (p.steps.length === 0) return lines.concat(c.dim('  nothing to roll back: no step in that range has run')).join('\n') + '\n';
  const idWidth = Math.max(...p.steps.map((s) => s.id.length));
  const actionWidth = Math.max(...p.steps.map((s) => actionText[s.action].length));
  for (const s of p.steps) {
    const action = actionText[s.action].padEnd(actionWidth);
    const painted = s.action === 'undo' ? c.cyan(action) : s.action === 'reset' ? c.dim(action) : c.yellow(action);
    lines.push(`  ${painted}  ${s.id.padEnd(idWidth)}  ${s.reason}`);
  }
  return lines.join('\n') + '\n';
}

/** The question put to a person at a terminal. */
export function rollbackQuestion(p: RollbackPreview): string {
  const undo = p.steps.filter((s) => s.action === 'undo').length;
  const reset = p.steps.filter((s) => s.action === 'reset').length;
  return `Roll back run ${p.run}: undo ${undo} step${undo === 1 ? '' : 's'} and reset ${reset}?`;
}
