import { describe, expect, it } from 'vitest';
import { playbookGraph } from '../../src/commands/graph.js';
import { mermaidText, renderMermaid } from '../../src/ui/graph.js';
import { stepTypes } from '../../src/steps/index.js';

describe('migrate graph', () => {
  it('escapes labels for Mermaid: quotes, #, HTML, backticks, newlines', () => {
    expect(mermaidText('Say "hi" #1 <b> & `x`\nnext')).toBe('Say #quot;hi#quot; #35;1 #lt;b#gt; #amp; #96;x#96; next');
  });

  it('draws steps in order, gates as hexagons, waits as stadiums, actions as boxes, with the step type', () => {
    const text = renderMermaid('p', [
      { id: 'end', uses: 'kafka.topic', title: 'Create "t"', kind: 'action' },
      { id: 'go', uses: 'confirm', title: 'Go?', kind: 'gate' },
      { id: 'drained', uses: 'kafka.drain', title: 'drained', kind: 'wait' },
    ]);
    expect(text.split('\n')).toEqual(
      expect.arrayContaining([
        'flowchart TD',
        '  s1["<b>end</b> <i>kafka.topic</i><br/>Create #quot;t#quot;"]',
        '  s2{{"<b>go</b> <i>confirm</i><br/>Go?"}}',
        '  s3(["<b>drained</b> <i>kafka.drain</i>"])',
        '  s1 --> s2',
        '  s2 --> s3',
        '  class s2 gate',
        '  class s3 wait',
      ]),
    );
  });

  it('expands titles with --param; without params, draws the playbook with its templates', async () => {
    const bound = await playbookGraph('demo', { cwd: process.cwd(), param: ['topic=orders'], stepTypes });
    expect(bound.steps.map((s) => [s.id, s.kind, s.title])).toEqual([
      ['create-topic', 'action', 'Create topic datarep.orders'],
      ['go-live', 'gate', 'Producer goes live'],
      ['drained', 'wait', 'Consumers drain datarep.orders'],
    ]);
    const unbound = await playbookGraph('demo', { cwd: process.cwd(), param: [], stepTypes });
    expect(unbound.steps[0]?.title).toBe('Create topic datarep.${{ params.topic }}');
    await expect(playbookGraph('demo', { cwd: process.cwd(), param: ['nope=1'], stepTypes })).rejects.toThrow(/declares no such param/);
  });
});
