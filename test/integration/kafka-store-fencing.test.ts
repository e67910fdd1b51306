// A holder's write held up past its session timeout lands after the next holder took over
// (test/support/fencing.ts): on the real broker, every reader ignores it and reports it as fenced,
// the late holder stops with "lost the lock" (exit 5), and the new holder goes on. Before fencing,
// the late record was the run's state: a reader resumed from A's stale step.
import { describe, expect, it } from 'vitest';
import { runCli, unique, workdir } from '../support/cli.js';
import { delayedWriteScenario } from '../support/fencing.js';
import { kafkaBrokers } from '../support/kafka.js';

describe('Kafka run store: fencing a late write', () => {
  it('a write delayed past the holder’s session timeout lands in the log and is ignored by every reader', { timeout: 120_000 }, async () => {
    const run = unique('fenced');
    const [topic, lockTopic] = [unique('it-fence-runs'), unique('it-fence-locks')];
    const out = await delayedWriteScenario({ brokers: kafkaBrokers().join(','), topic, lockTopic, run, sessionTimeoutMs: 6000 });
    // B took over from what A had saved before it stopped.
    expect(out.bTookOver?.steps[0]?.summary).toBe('A: step 1 done');
    // Every reader sees B's state, not the record that landed last.
    expect(out.read?.steps[0]?.summary).toBe('B: step 3 done');
    expect(out.listed?.steps[0]?.summary).toBe('B: step 3 done');
    // The late write did land: the log grew by one record, which is reported as fenced.
    expect(out.endAfterLate).toBe(out.endBeforeLate + 1);
    expect(out.fenced).toEqual([expect.objectContaining({ run, offset: out.endBeforeLate, why: 'written after a newer holder claimed the run' })]);
    // A learnt its write was fenced, and stopped like a holder that lost its lock (exit 5).
    expect(out.holderA.lastLine).toMatch(/^error RunLockLostError 5: lost the lock of run .*: another process claimed the run .*fenced/);
    expect(out.holderA.code).toBe(5);
    // B is still the holder, and goes on.
    expect(out.afterB?.steps[0]?.summary).toBe('B: step 4 done');

    // `migrate status` shows the run as B left it, and the fenced write beside it.
    const cwd = await workdir({ 'migrate.config.yaml': `state:\n  store: kafka\n  topic: ${topic}\n  lockTopic: ${lockTopic}\n` });
    const env = { KAFKA_BROKERS: kafkaBrokers().join(',') };
    const json = await runCli(['status', run, '--json'], { cwd, env });
    expect(json.code, json.stderr).toBe(0);
    const shown = JSON.parse(json.stdout) as { steps: { summary: string }[]; fencedWrites: { offset: number; token: number; fencedBy: number }[] };
    expect(shown.steps[0]?.summary).toBe('B: step 4 done');
    expect(shown.fencedWrites).toEqual([expect.objectContaining({ offset: out.endBeforeLate, why: 'written after a newer holder claimed the run' })]);
    expect(shown.fencedWrites[0]?.token).toBeLessThan(shown.fencedWrites[0]?.fencedBy as number);
    const text = await runCli(['status', run], { cwd, env });
    expect(text.stdout).toContain(`1 fenced write (ignored by every reader; the run is as shown above):`);
    expect(text.stdout).toContain(`offset ${out.endBeforeLate}: write 2 of the holder with token`);
  });
});
