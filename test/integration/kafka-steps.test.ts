import { createServer, type Server } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { events, eventually, runCli, startCli, unique, workdir } from '../support/cli.js';
import { exactProducer, testKafka } from '../support/kafka-client.js';
import { exerciseCompletedSchema, exerciseEvent, exerciseRecord } from '../support/seed-schema.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function createTopic(topic: string, partitions = 2): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
  await admin.disconnect();
}

async function producer() {
  const p = exactProducer();
  await p.connect();
  cleanups.push(() => p.disconnect());
  return {
    send: (topic: string, events: { key: string; value: unknown; partition?: number }[]) =>
      p.send({ topic, messages: events.map((e) => ({ key: e.key, value: JSON.stringify(e.value), ...(e.partition !== undefined ? { partition: e.partition } : {}) })) }),
  };
}

async function withSchema(files: Record<string, string>): Promise<string> {
  const cwd = await workdir(files);
  await mkdir(path.join(cwd, 'schemas/ExerciseCompleted'), { recursive: true });
  await writeFile(path.join(cwd, 'schemas/ExerciseCompleted/0.json'), JSON.stringify(exerciseCompletedSchema, null, 2));
  return cwd;
}

const verifyPlaybook = (extra = '') => `name: verify
params:
  topic: { required: true }
  kind: { default: func }
  endpoint: { default: "http://127.0.0.1:1" }
steps:
  - id: events-flow
    uses: kafka.verify
    with:
      topic: \${{ params.topic }}
      event: ExerciseCompleted
      version: 0
      minEvents: 6
      kind: \${{ params.kind }}
      parity: { url: "\${{ params.endpoint }}/{key}", sample: 3 }
${extra}    interval: 200ms
    timeout: 60s
`;

/** Starts verify (its checks in `workers` worker threads, 0: on the reading thread), waits until it is reading, then produces the given events. */
async function verifyWith(workers: string, events: { key: string; value: unknown; partition?: number }[], params: string[] = []) {
  const topic = unique('verify');
  await createTopic(topic);
  const cwd = await withSchema({ 'verify.yaml': verifyPlaybook() });
  const run = startCli(['run', 'verify.yaml', '-p', `topic=${topic}`, ...params, '--json'], { cwd, env: { MIGRATE_VERIFY_WORKERS: workers } });
  cleanups.push(async () => run.kill('SIGKILL'));
  await eventually(async () => run.pid && (await import('node:fs/promises')).readFile(path.join(cwd, '.migrate', `verify-${topic}.json`), 'utf8').then((t) => t.includes('"running"')));
  // Events produced before the step began are not its business: this one is never read.
  await new Promise((r) => setTimeout(r, 2500));
  const p = await producer();
  await p.send(topic, events);
  return run.result;
}

// Both ways the checks run (src/verify/event-checks.ts): in a worker thread (the default on two or
// more cores) and on the thread that reads (one core, or MIGRATE_VERIFY_WORKERS=0).
for (const [threads, workers] of [['worker thread', '1'], ['reading thread', '0']] as const) describe(`kafka.verify against real events (checks on the ${threads})`, () => {
  it('passes when enough valid, unique events flow', async () => {
    const res = await verifyWith(workers, Array.from({ length: 8 }, (_, i) => ({ key: `ex-${i}`, value: exerciseEvent(`ex-${i}`) })));
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/"summary":"\d+ new events \(need 6\), all valid, no duplicate event_id"/);
  });

  it('an event that violates the schema: exit 1 naming its offset and the failing schema path', async () => {
    const good = exerciseEvent('ex-2');
    const bad = { ...good, payload: { ...good.payload, title: 42 } };
    const res = await verifyWith(workers, [
      { key: 'ex-1', value: exerciseEvent('ex-1'), partition: 0 },
      { key: 'ex-2', value: bad, partition: 0 },
    ]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/event at partition 0 offset 1 fails the schema ExerciseCompleted v0 at \/payload\/title \(#\/definitions\/payload\/properties\/title\/type\): must be string/);
  });

  it('a duplicate event_id: exit 1 naming both offsets', async () => {
    const e = exerciseEvent('ex-1');
    const res = await verifyWith(workers, [
      { key: 'ex-1', value: e, partition: 0 },
      { key: 'ex-3', value: exerciseEvent('ex-3'), partition: 1 },
      { key: 'ex-1', value: e, partition: 1 },
    ]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`duplicate event_id ${e.event_id}: at partition 0 offset 0 and at partition 1 offset 1`);
  });

  it('form: a replica that differs from the sync endpoint names the key and the field', async () => {
    const server = await startRecords((id) => (id === 'ex-2' ? { ...exerciseRecord(id), title: 'Renamed' } : exerciseRecord(id)));
    const res = await verifyWith(
      workers,
      ['ex-1', 'ex-2', 'ex-3'].map((id) => ({ key: id, value: exerciseEvent(id), partition: 0 })),
      ['-p', 'kind=form', '-p', `endpoint=${server}`],
    );
    expect(res.code).toBe(1);
    const failed = events(res.stdout).find((e) => e.type === 'step.failed');
    expect(failed?.error).toContain('parity: key ex-2 field title: the event at partition 0 offset 1 has "Exercise ex-2", the sync endpoint returns "Renamed"');
  });

  it('form: passes when the sampled replicas equal the endpoint', async () => {
    const server = await startRecords(exerciseRecord);
    const res = await verifyWith(
      workers,
      Array.from({ length: 6 }, (_, i) => ({ key: `ex-${i}`, value: exerciseEvent(`ex-${i}`) })),
      ['-p', 'kind=form', '-p', `endpoint=${server}`],
    );
    expect(res.code, res.stdout).toBe(0);
    expect(res.stdout).toContain('parity 3/3 keys');
  });
});

async function startRecords(record: (id: string) => unknown): Promise<string> {
  const server: Server = createServer((req, res) => {
    const id = decodeURIComponent(req.url?.split('/').pop() ?? '');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(record(id)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  const addr = server.address() as { port: number };
  return `http://127.0.0.1:${addr.port}/api/v0/exercises`;
}

describe('kafka.consumers, kafka.quiet and kafka.retire against a real group', () => {
  const pb = `name: groups
params:
  topic: { required: true }
  group: { required: true }
steps:
  - id: consumers-ready
    uses: kafka.consumers
    with: { topic: "\${{ params.topic }}", group: "\${{ params.group }}" }
    interval: 300ms
    timeout: 60s
  - id: quiet
    uses: kafka.quiet
    with: { topic: "\${{ params.topic }}", quietFor: 2s }
    interval: 300ms
    timeout: 6s
  - id: retired
    uses: kafka.retire
    with: { group: "\${{ params.group }}" }
    interval: 300ms
    timeout: 60s
`;

  it('waits for a real consumer to own every partition, for quiet, then for the members to leave, and deletes the group', async () => {
    const topic = unique('groups');
    const group = unique('g');
    await createTopic(topic, 3);
    const cwd = await workdir({ 'groups.yaml': pb });
    const run = startCli(['run', 'groups.yaml', '-p', `topic=${topic}`, '-p', `group=${group}`, '--json'], { cwd });
    cleanups.push(async () => run.kill('SIGKILL'));

    const consumer = testKafka().consumer({ groupId: group, maxWaitTimeInMs: 200, sessionTimeout: 10_000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async () => undefined });
    let stopped = false;
    cleanups.push(async () => stopped || consumer.disconnect());

    // The consumer leaves only once kafka.retire has seen it: retire must wait for the members to go.
    await run.untilStdout(/"step":"retired","done":false,"summary":"[^"]*still has 1 member \(/);
    await consumer.disconnect();
    stopped = true;
    const res = await run.result;
    expect(res.code, res.stdout).toBe(0);
    expect(res.stdout).toMatch(/1 member owns all 3 partitions/);
    expect(res.stdout).toMatch(/still has 1 member \(/);

    const admin = testKafka().admin();
    await admin.connect();
    const { groups } = await admin.describeGroups([group]);
    await admin.disconnect();
    expect(groups[0]?.state).toBe('Dead');
  });

  it('kafka.quiet times out saying the producer is still producing', async () => {
    const topic = unique('noisy');
    await createTopic(topic, 2);
    const cwd = await workdir({
      'quiet.yaml': `name: quiet\nparams:\n  topic: { required: true }\nsteps:\n  - id: quiet\n    uses: kafka.quiet\n    with: { topic: "\${{ params.topic }}", quietFor: 3s }\n    interval: 200ms\n    timeout: 4s\n`,
    });
    const p = await producer();
    const timer = setInterval(() => void p.send(topic, [{ key: 'k', value: exerciseEvent('ex-1'), partition: 1 }]).catch(() => undefined), 300);
    cleanups.push(async () => clearInterval(timer));
    const res = await runCli(['run', 'quiet.yaml', '-p', `topic=${topic}`], { cwd });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/timed out after 4s: the producer is still producing: \d+ new events on .* since this step began, on partitions 1$/m);
  });
});
