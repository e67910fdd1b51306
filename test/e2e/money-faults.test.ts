// The crediting/debiting problem end to end: the demo source performs operations and publishes
// them, a money fault is injected on request (one operation under two event_ids; an operation
// without an event), and `migrate run` stops at kafka.verify naming the operation and the offsets
// (or the missing operation). Run again with the fault off, the same run resumes and passes.
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { events, startCli, unique, workdir } from '../support/cli.js';
import { startSource, writeFlags, type DemoService } from '../support/demo-services.js';
import { kafkaBrokers } from '../support/kafka.js';
import { testKafka } from '../support/kafka-client.js';
import { writeExerciseSchemas } from '../support/seed-schema.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const TOKEN = 'op-token-7f3a9c';

const playbook = `name: money
params:
  topic: { required: true }
  source: { required: true }
  token: { required: true, secret: true }
steps:
  - id: money-flows
    uses: kafka.verify
    with:
      topic: \${{ params.topic }}
      event: ExerciseCompleted
      versions: [0, 1]
      minEvents: 5
      operationKey: [/payload/exercise_id, /payload/candidate_id]
      completeness: { url: "\${{ params.source }}/operations", token: "\${{ params.token }}", grace: 1s }
    interval: 200ms
    timeout: 60s
`;

/** A topic, the demo source (a candidate per completion, publishing on request only) and a workspace with the playbook and both schemas. */
async function world(): Promise<{ topic: string; source: DemoService; cwd: string }> {
  const topic = unique('money');
  const admin = testKafka().admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
  await admin.disconnect();
  const flags = path.join(await mkdtemp(path.join(os.tmpdir(), 'migrate-money-')), 'flags.json');
  await writeFlags(flags, { producer: false });
  const source = await startSource({ brokers: kafkaBrokers(), topic, flags, producerFlag: 'producer', completions: true, operationsToken: TOKEN });
  cleanups.push(() => source.stop());
  const cwd = await workdir({ 'money.yaml': playbook });
  await writeExerciseSchemas(cwd);
  return { topic, source, cwd };
}

async function post(url: string, body: unknown): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.text();
  return res.status;
}

/** `migrate run money.yaml` (a second call resumes the same run); once the step reads, `fault` is posted (when given) and 6 operations performed. */
async function runWhileOperating(w: { topic: string; source: DemoService; cwd: string }, fault?: 'double' | 'lost') {
  const run = startCli(['run', 'money.yaml', '-p', `topic=${w.topic}`, '-p', `source=${w.source.url}`, '-p', `token=${TOKEN}`, '--json'], { cwd: w.cwd });
  cleanups.push(async () => run.kill('SIGKILL'));
  // The first progress event comes after the step marked where it reads from: what follows is new.
  await run.untilStdout(/"type":"step\.progress"/);
  if (fault) expect(await post(`${w.source.url}/admin/fault`, { type: fault })).toBe(202);
  expect(await post(`${w.source.url}/admin/produce`, { count: 6 })).toBe(200);
  const res = await run.result;
  expect(res.stdout + res.stderr).not.toContain(TOKEN);
  // The run's state keeps the secret masked.
  const state = await readFile(path.join(w.cwd, '.migrate', `money-${w.topic}.json`), 'utf8');
  expect(state).not.toContain(TOKEN);
  return { ...res, error: String(events(res.stdout).find((e) => e.type === 'step.failed')?.error ?? '') };
}

/** The operation key the source logged for a fault, as the step names it. */
function faultedOperation(source: DemoService, fault: 'double' | 'lost'): string {
  const m = new RegExp(`fault ${fault}: operation (\\[.*?\\])`).exec(source.logs());
  const [exercise, candidate] = JSON.parse(m?.[1] ?? '[]') as string[];
  return `/payload/exercise_id "${exercise}", /payload/candidate_id "${candidate}"`;
}

describe('money faults stop kafka.verify', () => {
  it('double: one operation under two event_ids fails naming it and both offsets; run again without the fault, it passes', async () => {
    const w = await world();
    const failed = await runWhileOperating(w, 'double');
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    const operation = faultedOperation(w.source, 'double');
    // Both copies have the same key, so the same partition, one after the other.
    expect(failed.error).toMatch(new RegExp(`^operation ${escape(operation)} published twice under different event_ids: at partition (\\d) offset (\\d+) and at partition \\1 offset \\d+ \\(event_id [0-9a-f-]{36}, v0\\); a consumer would apply it twice$`));

    const again = await runWhileOperating(w);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(events(again.stdout).find((e) => e.type === 'run.started')?.resumed).toBe(true);
    expect(again.stdout).toMatch(/no operation twice; each of the 6 operations the source performed from \S+ to \S+ has one event/);
  });

  it('lost: an operation performed without an event fails naming it; run again without the fault, it passes', async () => {
    const w = await world();
    const failed = await runWhileOperating(w, 'lost');
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    const operation = faultedOperation(w.source, 'lost');
    expect(failed.error).toMatch(
      new RegExp(`^completeness: 1 of the 6 operations the source performed from \\S+ to \\S+ have no event on ${w.topic}: ${escape(operation)} \\(at \\S+\\); a consumer never applies them$`),
    );

    const again = await runWhileOperating(w);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(events(again.stdout).find((e) => e.type === 'run.started')?.resumed).toBe(true);
    expect(again.stdout).toMatch(/each of the 6 operations the source performed from \S+ to \S+ has one event/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
