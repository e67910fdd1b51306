import { readFile } from 'node:fs/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compileSchema, type Validator } from '../../src/schema/validate.js';
import { events, runCli, startCli, unique, workdir, type CliResult } from '../support/cli.js';
import { testKafka, topicWithBacklog } from '../support/kafka-client.js';
import { drainPlaybook, gatedPlaybook, unreachablePlaybook as unreachable } from '../support/playbooks.js';

// The documented --json format (docs/events.schema.json) checked against what real runs print,
// so the doc cannot drift from the code.

const gated = gatedPlaybook({ partitions: 2, message: 'Switch the flag on?' });
const drain = drainPlaybook({ samples: 2, interval: '250ms', timeout: '60s' });

let validate: Validator;
let validateError: Validator;
beforeAll(async () => {
  const schema = JSON.parse(await readFile(new URL('../../docs/events.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  validate = await compileSchema(schema);
  const { oneOf: _events, ...defs } = schema;
  validateError = await compileSchema({ ...defs, $ref: '#/$defs/error' });
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Every stdout line is one JSON object valid against the schema; returns the event types in order. */
function expectValidLines(res: CliResult): string[] {
  const lines = res.stdout.split('\n').filter((l) => l !== '');
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    const value = JSON.parse(line) as unknown;
    expect(validate(value), line).toEqual([]);
  }
  return events(res.stdout).map((e) => e.type);
}

describe('--json events match docs/events.schema.json', () => {
  it('a gate pause, then a completion', async () => {
    const topic = unique('ev-gate');
    const cwd = await workdir({ 'gated.yaml': gated });
    const paused = await runCli(['run', 'gated.yaml', '-p', `topic=${topic}`, '--json'], { cwd });
    expect(paused.code, paused.stderr).toBe(3);
    expect(expectValidLines(paused)).toEqual(['run.started', 'step.started', 'step.checked', 'step.applied', 'step.done', 'gate.waiting', 'run.finished']);

    const done = await runCli(['run', 'gated.yaml', '--name', `gated-${topic}`, '--approve', 'approve', '--json'], { cwd });
    expect(done.code, done.stderr).toBe(0);
    expect(expectValidLines(done)).toEqual(['run.started', 'gate.approved', 'step.done', 'step.started', 'step.checked', 'step.applied', 'step.done', 'run.finished']);
  });

  it('a failure after retries (broker unreachable)', async () => {
    const cwd = await workdir({ 'unreachable.yaml': unreachable });
    const res = await runCli(['run', 'unreachable.yaml', '--json'], { cwd, env: { KAFKA_BROKERS: '127.0.0.1:1' } });
    expect(res.code, res.stderr).toBe(1);
    expect(expectValidLines(res)).toEqual(['run.started', 'step.started', 'step.retry', 'step.failed', 'run.finished']);
  });

  it('a drain with progress', async () => {
    const topic = unique('ev-drain');
    const group = unique('g');
    await topicWithBacklog(topic, [6, 4]);
    const cwd = await workdir({ 'drain.yaml': drain });
    const run = startCli(['run', 'drain.yaml', '-p', `topic=${topic}`, '-p', `group=${group}`, '--json'], { cwd });
    let seen = '';
    run.stdout?.on('data', (d: Buffer) => (seen += d.toString()));
    while (!seen.includes('"step.progress"')) {
      if (run.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const consumer = testKafka().consumer({ groupId: group });
    await consumer.connect();
    cleanups.push(() => consumer.disconnect());
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ autoCommitInterval: 100, eachMessage: async () => undefined });

    const res = await run.result;
    expect(res.code, res.stderr).toBe(0);
    const types = expectValidLines(res);
    expect(types).toContain('step.progress');
    expect(types.at(-1)).toBe('run.finished');
    const progress = events(res.stdout).find((e) => e.type === 'step.progress') as unknown as { progress: { metrics: Record<string, number> } };
    expect(progress.progress.metrics.lag).toBe(10);
  });

  it('bad input prints one error line, valid against #/$defs/error', async () => {
    const cwd = await workdir({ 'bad.yaml': 'name: bad\nsteps:\n  - id: a\n    uses: kafka.topik\n' });
    const res = await runCli(['run', 'bad.yaml', '--json'], { cwd });
    expect(res.code).toBe(2);
    const lines = res.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(validateError(JSON.parse(lines[0] as string))).toEqual([]);
    expect(validate(JSON.parse(lines[0] as string))).not.toEqual([]); // not an event
  });
});
