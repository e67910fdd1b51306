// kafka.verify's versions, operationKey and duplicate tables past their memory budget against real
// events: the built CLI runs a one-step playbook reading from the earliest offset of a fresh topic,
// so the events are produced first and no test waits for the step to begin.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { events, runCli, unique, workdir } from '../support/cli.js';
import { exactProducer, testKafka } from '../support/kafka-client.js';
import { exerciseEvent, exerciseEventV1, exerciseRecord, writeExerciseSchemas } from '../support/seed-schema.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Sent = { value: unknown; partition: number };

/** A fresh 2-partition topic holding `sent`, and a workspace with both schema versions and a verify playbook of `withLines`. */
async function verifyEarliest(sent: Sent[], withLines: string, workers = '1', env: Record<string, string> = {}) {
  const topic = unique('verify-v');
  const admin = testKafka().admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
  await admin.disconnect();
  const p = exactProducer();
  await p.connect();
  cleanups.push(() => p.disconnect());
  // In order, one request in flight: each lands at the offset the test names.
  for (let i = 0; i < sent.length; i += 500) {
    await p.send({ topic, messages: sent.slice(i, i + 500).map((s) => ({ key: 'k', value: JSON.stringify(s.value), partition: s.partition })) });
  }
  const cwd = await workdir({
    'verify.yaml': `name: verify
steps:
  - id: events-flow
    uses: kafka.verify
    with:
      topic: ${topic}
      event: ExerciseCompleted
      minEvents: ${sent.length}
      from: earliest
${withLines.replace(/^/gm, '      ')}
    interval: 200ms
    timeout: 120s
`,
  });
  await writeExerciseSchemas(cwd);
  const res = await runCli(['run', 'verify.yaml', '--json'], { cwd, env: { MIGRATE_VERIFY_WORKERS: workers, ...env } });
  const failed = events(res.stdout).find((e) => e.type === 'step.failed');
  return { ...res, error: String(failed?.error ?? '') };
}

const at = (partition: number, value: unknown): Sent => ({ partition, value });
const KEY = 'operationKey: [/payload/exercise_id, /payload/candidate_id]';

for (const [threads, workers] of [['a worker thread', '1'], ['the reading thread', '0']] as const) {
  describe(`kafka.verify versions and operationKey (checks on ${threads})`, () => {
    it('versions [0, 1]: each event against its own version\'s schema; both valid: exit 0', async () => {
      const res = await verifyEarliest([at(0, exerciseEvent('ex-1')), at(1, exerciseEventV1('ex-2')), at(0, exerciseEventV1('ex-3'))], 'versions: [0, 1]', workers);
      expect(res.code, res.stdout + res.stderr).toBe(0);
      expect(res.stdout).toContain('"summary":"3 new events (need 3), all valid, no duplicate event_id"');
    });

    it('a v1 event invalid against v1 (no score) but valid against v0 fails, naming v1\'s schema', async () => {
      const res = await verifyEarliest([at(0, exerciseEvent('ex-1')), at(0, { ...exerciseEvent('ex-2'), event_version: 1 })], 'versions: [0, 1]', workers);
      expect(res.code).toBe(1);
      expect(res.error).toMatch(/^event at partition 0 offset 1 fails the schema ExerciseCompleted v1 at \/payload \(#\/definitions\/payload\/required\): must have required property 'score'/);
    });

    it('a v0 event invalid against v0 (no author_id) but valid against v1 fails, naming v0\'s schema', async () => {
      const { author_id: _gone, ...payload } = { ...exerciseRecord('ex-2'), score: 50 };
      const res = await verifyEarliest([at(1, exerciseEventV1('ex-1')), at(1, { ...exerciseEvent('ex-2'), payload })], 'versions: "0,1"', workers);
      expect(res.code).toBe(1);
      expect(res.error).toMatch(/^event at partition 1 offset 1 fails the schema ExerciseCompleted v0 at \/payload \(#\/definitions\/payload\/required\): must have required property 'author_id'/);
    });

    it('one operation as v0 and as v1 under two event_ids: exit 1 naming the operation and both offsets', async () => {
      const v1 = exerciseEventV1('ex-1');
      // In one partition, so which one is read second is certain (its id and version are named).
      const res = await verifyEarliest([at(0, exerciseEvent('ex-2')), at(1, exerciseEvent('ex-3')), at(0, exerciseEvent('ex-1')), at(0, v1)], `versions: [0, 1]\n${KEY}`, workers);
      expect(res.code).toBe(1);
      expect(res.error).toBe(
        `operation /payload/exercise_id "ex-1", /payload/candidate_id "cand-ex-1" published twice under different event_ids: at partition 0 offset 1 and at partition 0 offset 2 (event_id ${v1.event_id}, v1); a consumer would apply it twice`,
      );
    });
  });
}

describe('kafka.verify versions: only some allowed', () => {
  it('versions [1]: a v0 event fails naming its partition, offset and version', async () => {
    const res = await verifyEarliest([at(0, exerciseEventV1('ex-1')), at(1, exerciseEventV1('ex-2')), at(1, exerciseEvent('ex-3'))], 'versions: [1]');
    expect(res.code).toBe(1);
    expect(res.error).toBe('event at partition 1 offset 1 is ExerciseCompleted v0; this step allows only ExerciseCompleted v1');
  });

  it('version alone keeps its meaning: every event against that one schema (a v1 event fails v0\'s enum)', async () => {
    const res = await verifyEarliest([at(0, exerciseEvent('ex-1')), at(0, exerciseEventV1('ex-2'))], 'version: 0');
    expect(res.code).toBe(1);
    expect(res.error).toMatch(/^event at partition 0 offset 1 fails the schema ExerciseCompleted v0 at \/event_version/);
  });

  it('a version without a registered schema: the step fails before reading, naming it', async () => {
    const res = await verifyEarliest([at(0, exerciseEvent('ex-1'))], 'versions: [0, 2]');
    expect(res.code).toBe(1);
    expect(res.error).toMatch(/^schema ExerciseCompleted v2 is not registered in schema directory/);
  });
});

describe('kafka.verify operationKey', () => {
  it('one operation on two partitions (a retry that got a new event_id and another key): both places, in order', async () => {
    const res = await verifyEarliest([at(1, exerciseEvent('ex-1')), at(0, exerciseEvent('ex-1'))], `version: 0\n${KEY}`);
    expect(res.code).toBe(1);
    expect(res.error).toMatch(/^operation \/payload\/exercise_id "ex-1", \/payload\/candidate_id "cand-ex-1" published twice under different event_ids: at partition 0 offset 0( \(.*?\))? and at partition 1 offset 0( \(.*?\))?; a consumer would apply it twice$/);
  });

  it('the same event twice stays a duplicate event_id, reported once', async () => {
    const e = exerciseEvent('ex-1');
    const res = await verifyEarliest([at(0, e), at(0, exerciseEvent('ex-2')), at(0, e)], `version: 0\n${KEY}`);
    expect(res.code).toBe(1);
    expect(res.error).toBe(`duplicate event_id ${e.event_id}: at partition 0 offset 0 and at partition 0 offset 2; a consumer would apply it twice`);
  });

  it('distinct operations pass, and say so', async () => {
    const res = await verifyEarliest([at(0, exerciseEvent('ex-1')), at(1, exerciseEvent('ex-2'))], `version: 0\n${KEY}`);
    expect(res.code, res.stdout).toBe(0);
    expect(res.stdout).toContain('"summary":"2 new events (need 2), all valid, no duplicate event_id, no operation twice"');
  });

  it('an event with nothing at a pointer fails naming it', async () => {
    const res = await verifyEarliest([at(0, exerciseEvent('ex-1'))], `version: 0\noperationKey: [/payload/exercise_id, /payload/attempt]`);
    expect(res.code).toBe(1);
    expect(res.error).toBe('event at partition 0 offset 0 has no value at /payload/attempt (operationKey): its operation cannot be told');
  });

  it('a pointer that is not a JSON Pointer, or completeness without operationKey: exit 2 before step 1', async () => {
    const bad = await verifyEarliest([at(0, exerciseEvent('ex-1'))], `version: 0\noperationKey: [payload/exercise_id]`);
    expect(bad.code).toBe(2);
    expect(bad.stderr + bad.stdout).toMatch(/verify\.yaml:\d+:\d+.*a JSON Pointer into the event/);
    const lone = await verifyEarliest([at(0, exerciseEvent('ex-1'))], `version: 0\ncompleteness: { url: "http://127.0.0.1:1/operations" }`);
    expect(lone.code).toBe(2);
    expect(lone.stderr + lone.stdout).toContain('completeness needs operationKey');
  });
});

describe('kafka.verify past its memory budget (MIGRATE_VERIFY_MEMORY 64KiB: about 2,300 ids in memory, 768 each with operations)', () => {
  const N = 6000;
  const distinct = () => Array.from({ length: N }, (_, i) => at(0, exerciseEvent(`ex-${i}`)));
  /** verifyEarliest spilling to a directory of the test's, and what is left in it after. */
  async function spilling(sent: Sent[], withLines: string) {
    const spillDir = await mkdtemp(path.join(os.tmpdir(), 'verify-spill-'));
    cleanups.push(() => rm(spillDir, { recursive: true, force: true }));
    const res = await verifyEarliest(sent, withLines, '1', { MIGRATE_VERIFY_MEMORY: '64KiB', MIGRATE_SPILL_DIR: spillDir });
    return { ...res, left: await readdir(spillDir) };
  }

  it('a clean topic passes after spills, and the spill directory is removed', async () => {
    const res = await spilling(distinct(), `version: 0\noperationKey: [/payload/exercise_id]`);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    // 6,000 ids and as many operations, 768 of each a spill: 7 spills each.
    expect(res.stdout).toContain(`"summary":"${N} new events (need ${N}), all valid, no duplicate event_id, no operation twice; seen ids spilled to disk 14 times (past MIGRATE_VERIFY_MEMORY)"`);
    expect(res.left).toEqual([]);
  });

  it('a duplicate event_id whose sightings were spilled apart: exit 1 naming both offsets', async () => {
    const sent = distinct();
    const first = sent[10]?.value as { event_id: string };
    sent[5000] = at(0, { ...exerciseEvent('ex-again'), event_id: first.event_id });
    const res = await spilling(sent, 'version: 0');
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.error).toBe(`duplicate event_id ${first.event_id}: at partition 0 offset 10 and at partition 0 offset 5000; a consumer would apply it twice`);
    expect(res.left).toEqual([]);
  });

  it('one operation under two event_ids spilled apart: exit 1 naming the operation and both offsets', async () => {
    const sent = distinct();
    const again = exerciseEvent('ex-20');
    sent[4000] = at(0, again);
    const res = await spilling(sent, `version: 0\noperationKey: [/payload/exercise_id]`);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.error).toBe(
      `operation /payload/exercise_id "ex-20" published twice under different event_ids: at partition 0 offset 20 and at partition 0 offset 4000 (event_id ${again.event_id}, v0); a consumer would apply it twice`,
    );
  });

  it('a spill directory that cannot be made: exit 1 saying so', async () => {
    const res = await verifyEarliest(distinct(), 'version: 0', '1', { MIGRATE_VERIFY_MEMORY: '64KiB', MIGRATE_SPILL_DIR: path.join(os.tmpdir(), unique('no-such-dir'), 'below') });
    expect(res.code).toBe(1);
    expect(res.error).toMatch(/^cannot keep the seen event ids on disk: ENOENT: .*no-such-dir.* \(MIGRATE_VERIFY_MEMORY, MIGRATE_SPILL_DIR\)$/);
  });

  it('a MIGRATE_VERIFY_MEMORY that is not a size: exit 2 naming it, no stack, before it reads', async () => {
    const res = await verifyEarliest([at(0, exerciseEvent('ex-1'))], 'version: 0', '1', { MIGRATE_VERIFY_MEMORY: 'lots' });
    expect(res.code).toBe(2);
    expect(res.stdout + res.stderr).toContain('MIGRATE_VERIFY_MEMORY=lots is not a size in bytes (e.g. 64MiB, 512MB, 1GiB)');
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});
