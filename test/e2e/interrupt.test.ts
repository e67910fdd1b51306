// Ctrl-C while kafkajs is still retrying a call (here: the offsets of a topic that does not
// exist yet, which kafkajs retries on its own) must end the process: the engine saves the run as
// paused at once, and a client call abandoned mid-retry, which reconnects after close(), must not
// hold the process open (it did, for minutes, until bin/migrate stopped waiting for it).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli, unique, workdir } from '../support/cli.js';
import { kafkaBrokers } from '../support/kafka.js';
import { whenStepRuns } from '../support/procedure.js';

describe('SIGINT while kafkajs retries a call on its own', () => {
  it('exits 130 with the run paused, although a kafkajs retry is still in flight', async () => {
    const topic = unique('not-yet');
    const cwd = await workdir({
      'pb.yaml': `name: quiet-missing\nsteps:\n  - id: quiet\n    uses: kafka.quiet\n    with: { topic: ${topic}, quietFor: 5s }\n    timeout: 2m\n`,
    });
    const cli = startCli(['run', 'pb.yaml'], { cwd, env: { KAFKA_BROKERS: kafkaBrokers().join(',') } });
    await whenStepRuns(cwd, 'quiet-missing', 'quiet');
    await new Promise((r) => setTimeout(r, 500)); // the check is in flight, kafkajs retrying
    cli.kill('SIGINT');
    const res = await cli.result; // before the fix: never within the test's timeout
    expect(res.code, res.stdout + res.stderr).toBe(130);
    const state = JSON.parse(await readFile(path.join(cwd, '.migrate', 'quiet-missing.json'), 'utf8')) as { status: string; steps: { status: string }[] };
    expect(state.status).toBe('paused');
    expect(state.steps[0]?.status).toBe('pending');
  });
});
