import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { notificationFor, RunNotifier, webhookNotifier, type Notification } from '../../src/ui/notify.js';

const started: RunEvent = { type: 'run.started', run: 'r1', playbook: 'demo', resumed: false, steps: 2, stepList: [] };
const at = new Date('2026-11-25T10:00:00.000Z');

describe('run notifications', () => {
  it('is Slack-compatible (text, blocks) with a migrate object, mrkdwn escaped', () => {
    const n = notificationFor({ run: 'r1', playbook: 'demo', status: 'paused', step: 'go', message: 'Go <now> & then?', continueWith: 'migrate run demo --name r1 --approve go', durationMs: 5, at: at.toISOString() });
    expect(n.text).toBe('migrate: run r1 is waiting for approval at gate go');
    expect(n.blocks[0]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
    const section = n.blocks[0] as { text: { text: string } };
    expect(section.text.text).toContain('> Go &lt;now&gt; &amp; then?');
    expect(section.text.text).toContain('```migrate run demo --name r1 --approve go```');
    expect(n.migrate).toMatchObject({ run: 'r1', status: 'paused', step: 'go', continueWith: 'migrate run demo --name r1 --approve go' });
  });

  it('sends one notification when the run pauses, fails or completes, and none when interrupted', async () => {
    const sent: Notification[] = [];
    const notifier = new RunNotifier(async (n) => void sent.push(n), () => undefined, () => at);
    notifier.event(started);
    notifier.event({ type: 'step.failed', run: 'r1', step: 'a', error: 'boom', causes: ['deeper'] });
    notifier.event({ type: 'run.finished', run: 'r1', status: 'failed', step: 'a', durationMs: 10 });
    notifier.event({ type: 'run.finished', run: 'r1', status: 'interrupted', step: 'a', durationMs: 10 });
    notifier.event({ type: 'run.finished', run: 'r1', status: 'completed', durationMs: 65_000 });
    await notifier.flush();
    expect(sent.map((n) => n.migrate)).toEqual([
      { run: 'r1', playbook: 'demo', status: 'failed', step: 'a', error: 'boom', causes: ['deeper'], durationMs: 10, at: at.toISOString() },
      { run: 'r1', playbook: 'demo', status: 'completed', durationMs: 65_000, at: at.toISOString() },
    ]);
    expect(sent[1]?.text).toBe('migrate: run r1 completed in 1m05s');
  });

  it('a failing webhook is a warning, never an error', async () => {
    const warnings: string[] = [];
    const notifier = new RunNotifier(() => Promise.reject(new Error('webhook http://x answered HTTP 500')), (l) => warnings.push(l));
    notifier.event(started);
    notifier.event({ type: 'run.finished', run: 'r1', status: 'completed', durationMs: 1 });
    await expect(notifier.flush()).resolves.toBeUndefined();
    expect(warnings).toEqual(['warning: run notification not sent: webhook http://x answered HTTP 500']);
  });

  it('refuses a URL that is not http(s) without repeating it (it may hold a token)', () => {
    expect(webhookNotifier(undefined, process.stderr)).toBeUndefined();
    expect(() => webhookNotifier('ftp://hooks.example/T0KEN', process.stderr)).toThrow(/not an http:\/\/ or https:\/\/ URL/);
    try {
      webhookNotifier('nope T0KEN', process.stderr);
    } catch (err) {
      expect((err as Error).message).not.toContain('T0KEN');
    }
  });
});
