import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { escapeData, escapeProperty, GithubActionsRenderer, githubActionsRenderer, workflowCommand } from '../../src/ui/github.js';
import { runStateFixture } from '../support/run-state.js';

function capture(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

describe('GitHub Actions workflow commands', () => {
  it('escapes messages and properties as the runner unescapes them', () => {
    expect(escapeData('50% done\r\nnext')).toBe('50%25 done%0D%0Anext');
    expect(escapeProperty('a:b,c%\n')).toBe('a%3Ab%2Cc%25%0A');
    expect(workflowCommand('error', 'step:1', 'bad\nworse')).toBe('::error title=step%3A1::bad%0Aworse\n');
  });

  it('is off unless GITHUB_ACTIONS=true', () => {
    const out = capture();
    expect(githubActionsRenderer({}, out.stream, out.stream)).toBeUndefined();
    expect(githubActionsRenderer({ GITHUB_ACTIONS: 'false' }, out.stream, out.stream)).toBeUndefined();
    expect(githubActionsRenderer({ GITHUB_ACTIONS: 'true' }, out.stream, out.stream)).toBeInstanceOf(GithubActionsRenderer);
  });

  it('prints ::warning on retries, ::error on a failed step, ::notice at a gate and on completion', () => {
    const out = capture();
    const r = new GithubActionsRenderer(out.stream, undefined, () => undefined);
    const events: RunEvent[] = [
      { type: 'run.started', run: 'r1', playbook: 'demo', resumed: false, steps: 2, stepList: [] },
      { type: 'step.retry', run: 'r1', step: 'create-topic', error: 'Kafka did not answer', delayMs: 500, retry: 1 },
      { type: 'step.failed', run: 'r1', step: 'create-topic', error: 'cannot create topic: 100% broken', causes: ['ECONNREFUSED'] },
      { type: 'gate.waiting', run: 'r1', step: 'go-live', message: 'Go?', continueWith: 'migrate run demo --name r1 --approve go-live' },
      { type: 'run.finished', run: 'r1', status: 'completed', durationMs: 2000 },
    ];
    for (const e of events) r.event(e);
    expect(out.text().split('\n').filter(Boolean)).toEqual([
      '::warning title=create-topic::Kafka did not answer; retry 1 in 500ms',
      '::error title=create-topic::cannot create topic: 100%25 broken%0Acaused by: ECONNREFUSED%0AFix the cause and run the same command again to resume.',
      '::notice title=go-live::Run r1 is waiting for approval: Go?%0AContinue with: migrate run demo --name r1 --approve go-live',
      '::notice title=r1::Run r1 completed in 2s',
    ]);
  });

  it('summarises the run in Markdown: status, a table of steps, the continue command when paused', () => {
    const out = capture();
    const r = new GithubActionsRenderer(out.stream, undefined, () => undefined);
    for (const e of [
      { type: 'run.started', run: 'r1', playbook: 'demo', resumed: true, steps: 3, stepList: [] },
      { type: 'step.started', run: 'r1', step: 'b', title: 'B', attempt: 1 },
      { type: 'step.done', run: 'r1', step: 'b', summary: 'topic a|b exists', durationMs: 1500 },
      { type: 'gate.waiting', run: 'r1', step: 'c', message: 'Go?', continueWith: 'migrate run demo --name r1 --approve c' },
      { type: 'run.finished', run: 'r1', status: 'paused', step: 'c', durationMs: 1600 },
    ] as RunEvent[])
      r.event(e);
    const state = runStateFixture({
      name: 'r1',
      playbook: { name: 'demo', ref: 'demo', file: 'demo.yaml', checksum: 'x' },
      status: 'paused',
      steps: [
        { id: 'a', uses: 'kafka.topic', status: 'done', attempts: 1, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:03.000Z', summary: 'done before' },
        { id: 'b', uses: 'kafka.topic', status: 'done', attempts: 1 },
        { id: 'c', uses: 'confirm', status: 'waiting', attempts: 0 },
      ],
    });
    const md = r.summary(state);
    expect(md).toContain('### migrate: run `r1` paused at `c`');
    expect(md).toContain('| Step | Status | Duration | Summary |');
    expect(md).toContain('| `a` | ✅ done | 3s | done before |');
    expect(md).toContain('| `b` | ✅ done | 2s | topic a\\|b exists |');
    expect(md).toContain('| `c` | ⏸️ waiting |  | Go? |');
    expect(md).toContain('```sh\nmigrate run demo --name r1 --approve c\n```');
  });
});
