import { describe, expect, it } from 'vitest';
import { renderJunit, runSuite } from '../../src/ui/junit.js';
import { runStateFixture } from '../support/run-state.js';

describe('JUnit rendering', () => {
  it('escapes markup and drops the characters XML cannot carry', () => {
    const xml = renderJunit({
      name: 'a<b>"c"',
      timestamp: new Date('2026-11-29T10:00:00.123Z'),
      timeMs: 1234.6,
      properties: [['note', 'line 1\nline 2']],
      cases: [{ name: 'x&y', classname: 'pb', timeMs: 5, outcome: { kind: 'failed', message: 'bad \u0000\u001b[31m byte', type: 'Err', details: 'a < b\ncaused by: c' } }],
    });
    expect(xml).toContain('<testsuite name="a&lt;b&gt;&quot;c&quot;" tests="1" failures="1" errors="0" skipped="0" time="1.235" timestamp="2026-11-29T10:00:00Z"');
    expect(xml).toContain('<property name="note" value="line 1&#10;line 2"/>');
    expect(xml).toContain('<failure message="bad \uFFFD\uFFFD[31m byte" type="Err">a &lt; b\ncaused by: c</failure>');
    expect(xml).toContain('<testcase classname="pb" name="x&amp;y" time="0.005">');
  });

  it('says why a step was not reached: interrupted during it, or after the step the run stopped at', () => {
    const state = runStateFixture({ name: 'r' });
    state.steps = [
      { id: 'one', uses: 'pause', status: 'done', attempts: 1, summary: 'waited' },
      { id: 'two', uses: 'pause', status: 'pending', attempts: 1 },
      { id: 'three', uses: 'pause', status: 'pending', attempts: 0 },
    ];
    const suite = runSuite(state, { startedAt: new Date(0), ending: { status: 'interrupted', step: 'two', durationMs: 10 } });
    expect(suite.cases.map((c) => c.outcome)).toEqual([
      { kind: 'passed' },
      { kind: 'skipped', message: 'interrupted during this step; state saved, run the same command again to resume' },
      { kind: 'skipped', message: 'not reached: the run was interrupted at two' },
    ]);
    expect(suite.properties).toContainEqual(['status', 'interrupted']);
  });
});
