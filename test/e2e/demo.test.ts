import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { kafkaBrokers } from '../support/kafka.js';

const demo = fileURLToPath(new URL('../../scripts/demo.mjs', import.meta.url));

describe('npm run demo', () => {
  it('runs sync-to-async, then async-to-sync, then event-upgrade, against the real broker and the demo services: exit 0', async () => {
    const child = spawn(process.execPath, [demo], { env: { ...process.env, KAFKA_BROKERS: kafkaBrokers().join(','), NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code, out).toBe(0);
    expect(out).toMatch(/Run sync-to-async-\S+ paused at gate approve-switch/);
    expect(out).toMatch(/Run sync-to-async-\S+ completed in/);
    expect(out).toMatch(/✓ consumers-retired {2}group \S+ does not exist \(deleted\)/);
    expect(out).toMatch(/Run async-to-sync-\S+ completed in/);
    expect(out).toMatch(/async-to-sync-\S+ +async-to-sync +completed +10\/10/);
    expect(out).toMatch(/Run event-upgrade-\S+ paused at gate approve-old-off/);
    expect(out).toMatch(/✓ only-new .*no operation twice;.*; each of the \d+ operations the source performed from \S+ to \S+ has one event/);
    expect(out).toMatch(/Run event-upgrade-\S+ completed in/);
    expect(out).toMatch(/event-upgrade-\S+ +event-upgrade +completed +10\/10/);
  }, 300_000);
});
