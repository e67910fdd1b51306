/**
 * A playbook as a Mermaid flowchart: the steps top-down in the order they run, gates as
 * hexagons, waits and verifications (steps that only look) as stadiums, steps that act as boxes.
 * https://mermaid.js.org/syntax/flowchart.html
 */

/** One step, as the graph shows it. */
export interface GraphStep {
  id: string;
  /** The step type, e.g. kafka.topic. */
  uses: string;
  title: string;
  kind: 'gate' | 'action' | 'wait';
  /** Its state in a run, when the graph shows one. */
  status?: string;
}

/**
 * Text safe inside a quoted Mermaid label. Mermaid's own escapes are entity codes (#quot;),
 * so "#" itself must become one; < > & are escaped because labels are HTML.
 */
export function mermaidText(text: string): string {
  return text
    .replace(/#/g, '#35;')
    .replace(/"/g, '#quot;')
    .replace(/&/g, '#amp;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/`/g, '#96;')
    .replace(/\r?\n/g, ' ');
}

const shapes: Record<GraphStep['kind'], [string, string]> = {
  gate: ['{{', '}}'],
  action: ['[', ']'],
  wait: ['([', '])'],
};

/** `flowchart TD`, one node per step (id, type, title), chained in order. */
export function renderMermaid(title: string, steps: readonly GraphStep[]): string {
  const lines = ['---', `title: ${JSON.stringify(title)}`, '---', 'flowchart TD'];
  // Node ids are generated: a step id such as "end" or "graph" is a Mermaid keyword.
  const node = (i: number) => `s${i + 1}`;
  steps.forEach((s, i) => {
    const [open, close] = shapes[s.kind];
    const head = `<b>${mermaidText(s.id)}</b> <i>${mermaidText(s.uses)}</i>`;
    const body = s.title && s.title !== s.id ? `<br/>${mermaidText(s.title)}` : '';
    const status = s.status ? `<br/><small>${mermaidText(s.status)}</small>` : '';
    lines.push(`  ${node(i)}${open}"${head}${body}${status}"${close}`);
  });
  for (let i = 1; i < steps.length; i++) lines.push(`  ${node(i - 1)} --> ${node(i)}`);
  lines.push('  classDef gate fill:#fff4d6,stroke:#c08a00');
  lines.push('  classDef wait fill:#eef6ff,stroke:#3b82c4');
  const gates = steps.flatMap((s, i) => (s.kind === 'gate' ? [node(i)] : []));
  const waits = steps.flatMap((s, i) => (s.kind === 'wait' ? [node(i)] : []));
  if (gates.length) lines.push(`  class ${gates.join(',')} gate`);
  if (waits.length) lines.push(`  class ${waits.join(',')} wait`);
  return lines.join('\n') + '\n';
}
