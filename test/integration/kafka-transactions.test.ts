// kafka.drain and kafka.quiet against a real Java transactional producer (kafka-clients'
// KafkaProducer with a transactional.id, test/support/java/TxProducer.java) and a real Java
// consumer (Kafka's ConsoleConsumer, read_committed, in a group), on the tests' real broker.
// Lag is judged as Kafka's consumer-groups tool judges it: against the high watermark.
//
// The steps are driven one check at a time with a clock of the test's own, so "the producer has
// been silent for longer than quietFor" needs no sleeping and no timed assertion.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DirSchemaRegistry } from '../../src/adapters/schemas-dir.js';
import { consumerLag, type KafkaCluster } from '../../src/adapters/kafka.js';
import { connectKafka } from '../../src/adapters/kafka-connect.js';
import type { Check, StepContext, StepType } from '../../src/steps/contract.js';
import { kafkaDrainStep } from '../../src/steps/kafka-drain.js';
import { kafkaQuietStep } from '../../src/steps/kafka-quiet.js';
import { kafkaVerifyStep } from '../../src/steps/kafka-verify.js';
import { eventually, unique, workdir } from '../support/cli.js';
import { kafkaBrokers } from '../support/kafka.js';
import { testKafka } from '../support/kafka-client.js';
import { runKafkaTool, startJavaProgram, startKafkaTool, type ClientProcess } from '../support/real-clients.js';
import { exerciseCompletedSchema, exerciseEvent } from '../support/seed-schema.js';
import { stepContext } from '../support/step-context.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** A topic with `plain[p]` committed, non-transactional records on partition p. */
async function topicWith(plain: number[]): Promise<string> {
  const topic = unique('tx');
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: plain.length }] });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: plain.flatMap((n, partition) => Array.from({ length: n }, (_, i) => ({ partition, value: `plain-${partition}-${i}` }))) });
  await producer.disconnect();
  return topic;
}

interface OpenTransaction {
  producer: ClientProcess;
  topic: string;
  partition: number;
  /** Offset of the transaction's last record, as the producer was told. */
  last: number;
}

/** The Java transactional producer, its transaction open with `count` records on `partition` (values: see TxProducer.java). */
async function openTransaction(topic: string, count: number, partition: number, value?: string): Promise<OpenTransaction> {
  const args = [kafkaBrokers().join(','), topic, unique('txid'), String(count), String(partition), ...(value ? [value] : [])];
  const producer = await startJavaProgram('TxProducer.java', args, { interactive: true });
  cleanups.push(() => producer.stop(2_000));
  await producer.waitFor(/^OPEN \d+\.\.\d+$/m, 120_000);
  const last = Number(/^OPEN \d+\.\.(\d+)$/m.exec(producer.output())?.[1]);
  return { producer, topic, partition, last };
}

/** Ends the producer's transaction ("commit" or "abort") and waits until its marker is written. */
async function endTransaction(tx: OpenTransaction, how: 'commit' | 'abort'): Promise<void> {
  tx.producer.send(how);
  await tx.producer.waitFor(how === 'commit' ? /^COMMITTED$/m : /^ABORTED$/m);
  // The coordinator writes the markers after it answers the producer; until the marker (at last + 1)
  // is written, the last stable offset stays where the transaction began.
  await eventually(async () => ((await ownView(tx.topic)).find((p) => p.partition === tx.partition)?.stable ?? 0) >= tx.last + 2, 30_000, 100);
}

/** Kafka's ConsoleConsumer in `group`, read_committed, committing every 100 ms. */
async function javaConsumer(topic: string, group: string): Promise<ClientProcess> {
  const consumer = await startKafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', [
    '--bootstrap-server', kafkaBrokers().join(','),
    '--topic', topic,
    '--group', group,
    '--from-beginning',
    '--isolation-level', 'read_committed',
    '--consumer-property', 'auto.commit.interval.ms=100',
  ]);
  cleanups.push(() => consumer.stop());
  return consumer;
}

/**
 * The test's own view, through kafkajs's public admin API (not migrate's adapter): per partition
 * the last stable offset (kafkajs asks ListOffsets at READ_COMMITTED) and what the group committed.
 */
async function ownView(topic: string, group?: string): Promise<{ partition: number; stable: number; committed: number }[]> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = group ? ((await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]?.partitions ?? []) : [];
    return ends.sort((a, b) => a.partition - b.partition).map((e) => ({
      partition: e.partition,
      stable: Number(e.high),
      committed: Number(committed.find((c) => c.partition === e.partition)?.offset ?? -1),
    }));
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the group has committed everything a read_committed consumer can read. */
async function caughtUpToCommitted(topic: string, group: string): Promise<void> {
  await eventually(async () => (await ownView(topic, group)).every((p) => p.committed === p.stable), 60_000, 100);
}

/** One step, checked by hand: its params parsed as a playbook's would be, a clock the test moves. */
function stepper<P>(step: StepType<P>, raw: Record<string, unknown>, kafka: KafkaCluster, more: Partial<StepContext> = {}) {
  const params = step.params.parse(raw);
  let clock = 1_000_000;
  const ctx: StepContext = stepContext({
    kafka: () => Promise.resolve(kafka),
    memory: {},
    now: () => clock,
    defer: (fn) => void cleanups.push(fn),
    ...more,
  });
  return {
    check: (): Promise<Check> => step.check(params, ctx),
    advance: (ms: number) => (clock += ms),
  };
}

async function migrateKafka(): Promise<KafkaCluster> {
  const kafka = await connectKafka({ brokers: kafkaBrokers(), clientId: 'tx-test' });
  cleanups.push(() => kafka.close());
  return kafka;
}

/** Checks `step` until it is done; its last summary when it is. */
async function untilDone(s: { check(): Promise<Check> }): Promise<string> {
  let last: Check | undefined;
  try {
    await eventually(async () => {
      last = await s.check();
      return last.done;
    }, 60_000, 200);
  } catch (err) {
    throw new Error(`still not done: ${last?.summary}`, { cause: err });
  }
  return last?.summary ?? '';
}

/** ConsumerGroupCommand --describe: LOG-END-OFFSET and LAG by partition, as a user would read them. */
async function consumerGroupsTool(group: string, topic: string): Promise<Record<number, { logEnd: number; lag: number }>> {
  const out = await runKafkaTool('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', ['--bootstrap-server', kafkaBrokers().join(','), '--describe', '--group', group]);
  const lines = out.split('\n').map((l) => l.trim().split(/\s+/));
  const header = lines.find((l) => l.includes('LOG-END-OFFSET'));
  if (!header) throw new Error(`no table in ConsumerGroupCommand's output:\n${out}`);
  const col = (name: string) => header.indexOf(name);
  const rows = lines.filter((l) => l[col('GROUP')] === group && l[col('TOPIC')] === topic);
  return Object.fromEntries(rows.map((l) => [Number(l[col('PARTITION')]), { logEnd: Number(l[col('LOG-END-OFFSET')]), lag: Number(l[col('LAG')]) }]));
}

describe('a Java transactional producer', () => {
  it('kafka.drain: an open transaction is not drained; after the commit its records are lag until a real consumer reads them', async () => {
    const topic = await topicWith([4, 2]);
    const group = unique('g');
    const tx = await openTransaction(topic, 5, 0);
    let consumer = await javaConsumer(topic, group);
    await caughtUpToCommitted(topic, group);
    expect((await ownView(topic, group)).map((p) => p.committed)).toEqual([4, 2]);

    const kafka = await migrateKafka();
    const drain = stepper(kafkaDrainStep, { topic, group, samples: 3 }, kafka);
    for (let i = 0; i < 4; i++) {
      const c = await drain.check();
      expect(c.done).toBe(false);
      expect(c.summary).toContain('lag 5: partition 0 lag 5');
      expect(c.summary).toContain('a transaction is open on partition 0 (5 records past the last stable offset');
    }

    // The consumer stops before the commit, so the committed records wait for it.
    await consumer.stop();
    await endTransaction(tx, 'commit');
    const afterCommit = await drain.check();
    expect(afterCommit.done).toBe(false);
    // 5 records and the commit marker, which a consumer passes but has not passed yet.
    expect(afterCommit.summary).toContain('lag 6: partition 0 lag 6');
    expect(afterCommit.summary).not.toContain('transaction is open');

    consumer = await javaConsumer(topic, group);
    expect(await untilDone(drain)).toContain('lag 0 on 2 partitions, 3 samples in a row');
    await consumer.waitFor(/\{"n":4\}/);
    for (let n = 0; n < 5; n++) expect(consumer.output()).toContain(`{"n":${n}}`);
    expect((await ownView(topic, group)).map((p) => p.committed)).toEqual([10, 2]);
  });

  it('kafka.quiet: a producer silent for longer than quietFor with its transaction open is not quiet', async () => {
    const topic = await topicWith([1]);
    const tx = await openTransaction(topic, 3, 0);
    const kafka = await migrateKafka();
    const quiet = stepper(kafkaQuietStep, { topic, quietFor: '1s' }, kafka);
    for (let i = 0; i < 3; i++) {
      const c = await quiet.check();
      expect(c.done).toBe(false);
      expect(c.summary).toContain(`not quiet: on ${topic}, a transaction is open on partition 0 (3 records past the last stable offset`);
      quiet.advance(5_000);
    }

    await endTransaction(tx, 'commit');
    // The commit marker is the last thing the producer writes; a quiet period starts after it.
    const afterCommit = await quiet.check();
    expect(afterCommit.done).toBe(false);
    quiet.advance(5_000);
    const later = await quiet.check();
    expect(later).toMatchObject({ done: true, summary: `no new events on ${topic} for 5s`, outputs: { logEnd: { 0: 5 } } });
  });

  it("agrees with Kafka's consumer-groups tool on log end and lag, with a transaction open and after it commits", async () => {
    const topic = await topicWith([3, 1, 0]);
    const group = unique('g');
    const tx = await openTransaction(topic, 4, 1);
    const consumer = await javaConsumer(topic, group);
    await caughtUpToCommitted(topic, group);
    await consumer.stop();
    const kafka = await migrateKafka();

    const compare = async (): Promise<Record<number, { logEnd: number; lag: number }>> => {
      const tool = await consumerGroupsTool(group, topic);
      const ours = Object.fromEntries(consumerLag(await kafka.groupOffsets(group, topic)).map((l) => [l.partition, { logEnd: l.logEnd, lag: l.lag }]));
      expect(ours).toEqual(tool);
      return ours;
    };
    // Open: the high watermark counts the transaction's 4 records; the group stands before them.
    expect(await compare()).toEqual({ 0: { logEnd: 3, lag: 0 }, 1: { logEnd: 5, lag: 4 }, 2: { logEnd: 0, lag: 0 } });
    await endTransaction(tx, 'commit');
    expect(await compare()).toEqual({ 0: { logEnd: 3, lag: 0 }, 1: { logEnd: 6, lag: 5 }, 2: { logEnd: 0, lag: 0 } });
  });

  it('an aborted transaction: drain and quiet wait while it is open, and pass once a real consumer is past its marker', async () => {
    const topic = await topicWith([2]);
    const group = unique('g');
    const tx = await openTransaction(topic, 4, 0);
    const consumer = await javaConsumer(topic, group);
    await caughtUpToCommitted(topic, group);
    const kafka = await migrateKafka();
    const drain = stepper(kafkaDrainStep, { topic, group, samples: 2 }, kafka);
    const quiet = stepper(kafkaQuietStep, { topic, quietFor: '1s' }, kafka);
    for (let i = 0; i < 3; i++) {
      const [d, q] = [await drain.check(), await quiet.check()];
      expect(d.done).toBe(false);
      expect(d.summary).toContain('a transaction is open on partition 0');
      expect(q.done).toBe(false);
      expect(q.summary).toContain('a transaction is open on partition 0');
      quiet.advance(5_000);
    }

    await endTransaction(tx, 'abort');
    // Aborted records and the abort marker count in the high watermark (2 + 4 + 1); a read_committed
    // consumer reads none of them, moves past them and commits 7.
    expect((await ownView(topic))[0]?.stable).toBe(7);
    expect(await untilDone(drain)).toContain('lag 0 on 1 partitions');
    expect((await ownView(topic, group))[0]?.committed).toBe(7);
    expect(consumer.output()).not.toContain('"n":');
    await quiet.check();
    quiet.advance(5_000);
    expect(await quiet.check()).toMatchObject({ done: true });
  });

  it('kafka.verify: records of a transaction open when the step begins count once it commits', async () => {
    const topic = await topicWith([0]);
    // Valid ExerciseCompleted events, event_id tx-0, tx-1, ... (TxProducer puts i where {n} is).
    const tx = await openTransaction(topic, 3, 0, JSON.stringify(exerciseEvent('ex-{n}', 'tx-{n}')));
    const cwd = await workdir();
    await mkdir(path.join(cwd, 'schemas/ExerciseCompleted'), { recursive: true });
    await writeFile(path.join(cwd, 'schemas/ExerciseCompleted/0.json'), JSON.stringify(exerciseCompletedSchema));
    const kafka = await migrateKafka();
    // The checks on this thread: the worker is dist's compiled file, absent beside src under vitest.
    const workers = process.env.MIGRATE_VERIFY_WORKERS;
    process.env.MIGRATE_VERIFY_WORKERS = '0';
    cleanups.push(async () => (workers === undefined ? delete process.env.MIGRATE_VERIFY_WORKERS : (process.env.MIGRATE_VERIFY_WORKERS = workers)));
    const verify = stepper(kafkaVerifyStep, { topic, event: 'ExerciseCompleted', version: 0, minEvents: 5 }, kafka, {
      schemas: () => Promise.resolve(new DirSchemaRegistry(path.join(cwd, 'schemas'))),
    });
    // The step begins while the transaction is open: its 3 records are written, not yet readable.
    expect((await verify.check()).summary).toContain('0 new events (need 5)');

    const producer = testKafka().producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    await producer.send({ topic, messages: ['plain-0', 'plain-1'].map((id) => ({ partition: 0, value: JSON.stringify(exerciseEvent(id)) })) });
    await endTransaction(tx, 'commit');
    // 3 from the transaction (it committed after the step began) and 2 plain ones after it.
    expect(await untilDone(verify)).toBe('5 new events (need 5), all valid, no duplicate event_id');
  });
});
