// kafka.verify with its duplicate tables past their memory budget (MIGRATE_VERIFY_MEMORY tiny):
// the seen ids and operations spill to runs on disk, and a duplicate whose two sightings are in
// different spills is still found, named by both offsets, before the step says done. The built CLI
// runs a one-step playbook from the earliest offset of a fresh one-partition topic.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { events, runCli, unique, workdir } from '../support/cli.js';
import { exactProducer, testKafka } from '../support/kafka-client.js';
import { exerciseEvent, writeExerciseSchemas } from '../support/seed-schema.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** 64 KiB: about 2,300 ids in memory (768 each with operations): 6,000 events spill several times. */
const TINY = '64KiB';
const N = 6000;

/** A fresh one-partition topic holding `values` at offsets 0.., verified with MIGRATE_VERIFY_MEMORY tiny; the spill dir is returned to look at. */
async function verifySpilling(values: unknown[], withLines = '') {
  const topic = unique('verify-spill');
  const admin = testKafka().admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  const p = exactProducer();
  await p.connect();
  cleanups.push(() => p.disconnect());
  for (let i = 0; i < values.length; i += 1000) {
    await p.send({ topic, messages: values.slice(i, i + 1000).map((v) => ({ key: 'k', value: JSON.stringify(v), partition: 0 })) });
  }
  const spillDir = await mkdtemp(path.join(os.tmpdir(), 'verify-spill-'));
  cleanups.push(() => rm(spillDir, { recursive: true, force: true }));
  const cwd = await workdir({
    'verify.yaml': `name: verify
steps:
  - id: events-flow
    uses: kafka.verify
    with:
      topic: ${topic}
      event: ExerciseCompleted
      version: 0
      minEvents: ${values.length}
      from: earliest
${withLines.replace(/^/gm, '      ')}
    interval: 200ms
    timeout: 120s
`,
  });
  await writeExerciseSchemas(cwd);
  const res = await runCli(['run', 'verify.yaml', '--json'], { cwd, env: { MIGRATE_VERIFY_MEMORY: TINY, MIGRATE_SPILL_DIR: spillDir } });
  const failed = events(res.stdout).find((e) => e.type === 'step.failed');
  return { ...res, error: String(failed?.error ?? ''), left: await readdir(spillDir) };
}

const distinct = (n: number) => Array.from({ length: n }, (_, i) => exerciseEvent(`ex-${i}`));

describe('kafka.verify past its memory budget', () => {
  it('a clean topic passes, and the spill directory is removed', async () => {
    const res = await verifySpilling(distinct(N), 'operationKey: [/payload/exercise_id]');
    expect(res.code, res.stdout + res.stderr).toBe(0);
    // Ids (768 a spill with operations on) and operations (as many): 6,000 of each spill 7 times each.
    expect(res.stdout).toContain(`"summary":"${N} new events (need ${N}), all valid, no duplicate event_id, no operation twice; seen ids spilled to disk 14 times (past MIGRATE_VERIFY_MEMORY)"`);
    expect(res.left).toEqual([]);
  });

  it('a duplicate event_id whose sightings are in different spills: exit 1 naming both offsets', async () => {
    const values = distinct(N);
    values[5000] = { ...exerciseEvent('ex-again'), event_id: (values[10] as { event_id: string }).event_id };
    const res = await verifySpilling(values);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.error).toBe(`duplicate event_id ${(values[10] as { event_id: string }).event_id}: at partition 0 offset 10 and at partition 0 offset 5000; a consumer would apply it twice`);
    expect(res.left).toEqual([]);
  });

  it('one operation under two event_ids in different spills: exit 1 naming the operation and both offsets', async () => {
    const values = distinct(N);
    const again = exerciseEvent('ex-20');
    values[4000] = again;
    const res = await verifySpilling(values, 'operationKey: [/payload/exercise_id]');
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.error).toBe(
      `operation /payload/exercise_id "ex-20" published twice under different event_ids: at partition 0 offset 20 and at partition 0 offset 4000 (event_id ${again.event_id}, v0); a consumer would apply it twice`,
    );
  });

  it('a MIGRATE_VERIFY_MEMORY that is not a size: exit 2 naming it, no stack, before it reads', async () => {
    const cwd = await workdir({ 'verify.yaml': 'name: verify\nsteps:\n  - id: v\n    uses: kafka.verify\n    with: { topic: nope, event: ExerciseCompleted, version: 0 }\n' });
    await writeExerciseSchemas(cwd);
    const res = await runCli(['run', 'verify.yaml'], { cwd, env: { MIGRATE_VERIFY_MEMORY: 'lots' } });
    expect(res.code).toBe(2);
    expect(res.stdout + res.stderr).toContain('MIGRATE_VERIFY_MEMORY=lots is not a size in bytes (e.g. 64MiB, 512MB, 1GiB)');
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});
