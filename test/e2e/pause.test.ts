import { describe, expect, it } from 'vitest';
import { events, runCli, workdir } from '../support/cli.js';

const playbook = `name: settle
steps:
  - id: settle
    uses: pause
    with: { for: 300ms, reason: caches expire }
    interval: 50ms
`;

describe('a pause in a playbook, through the CLI', () => {
  it('plan names it as judged while the run waits; the run waits at least its time and completes', async () => {
    const cwd = await workdir({ 'settle.yaml': playbook });
    const plan = await runCli(['plan', 'settle.yaml'], { cwd });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/settle +pause +would wait +waited 0ms of 300ms/);
    expect(plan.stdout).toContain('a pause is counted while a run waits on it');

    const res = await runCli(['run', 'settle.yaml', '--json'], { cwd });
    expect(res.code, res.stderr).toBe(0);
    const done = events(res.stdout).find((e) => e.type === 'step.done');
    expect(done).toMatchObject({ step: 'settle', summary: 'waited 300ms: caches expire' });
    expect(done?.durationMs as number).toBeGreaterThanOrEqual(300);
  });

  it('a duration it cannot read is bad input at load time: exit 2 with file:line:col', async () => {
    const cwd = await workdir({ 'settle.yaml': playbook.replace('300ms', 'a while') });
    const res = await runCli(['run', 'settle.yaml'], { cwd });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/settle\.yaml:5:\d+: .*"a while" is not a duration/);
  });
});
