// kafka.verify reads what real producers write with every codec: kcat (librdkafka) and Kafka's
// Java ConsoleProducer, each with gzip, snappy, lz4 and zstd into one topic of its own; verify
// runs through the CLI, with its checks in a worker thread (the default) and on the main thread.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKafka } from '../../src/adapters/kafka-connect.js';
import { events, runCli, unique, workdir } from '../support/cli.js';
import { kafkaBrokers } from '../support/kafka.js';
import { testKafka } from '../support/kafka-client.js';
import { consoleProduce, kcatProduce } from '../support/real-clients.js';
import { exerciseCompletedSchema, exerciseEvent } from '../support/seed-schema.js';

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'];
/** Events per codec: enough for several LZ4 and snappy blocks in a batch (64 KB, 32 KB). */
const PER_CODEC = 300;

const admin = testKafka().admin();
beforeAll(() => admin.connect());
afterAll(() => admin.disconnect());

async function createTopic(topic: string): Promise<void> {
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
}

/** Lines "key<TAB>event JSON" of `n` new valid events. */
function eventLines(n: number, prefix: string): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}\t${JSON.stringify(exerciseEvent(`${prefix}-${i}`))}`);
}

/** The compression codecs of the record batches on `topic` (attribute bits 0-2), read back raw. */
async function codecsOn(topic: string): Promise<Set<number>> {
  const kafka = await connectKafka({ brokers: kafkaBrokers(), clientId: 'codecs-test' });
  try {
    const ends = await kafka.topicOffsets(topic);
    const codecs = new Set<number>();
    const reader = await kafka.readTopicChunks!(topic, Object.fromEntries(ends.map((e) => [e.partition, 0])), (c) => {
      for (let at = 0; at + 12 <= c.records.length; at += 12 + c.records.readInt32BE(at + 8)) codecs.add(c.records.readInt16BE(at + 21) & 7);
    });
    const deadline = Date.now() + 30_000;
    while (ends.some((e) => reader.position()[e.partition] !== e.logEnd) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await reader.close();
    return codecs;
  } finally {
    await kafka.close();
  }
}

async function verify(topic: string, minEvents: number, workers: string) {
  const cwd = await workdir({
    'verify.yaml': `name: verify
steps:
  - id: events-flow
    uses: kafka.verify
    with: { topic: ${topic}, event: ExerciseCompleted, version: 0, minEvents: ${minEvents}, from: earliest }
    interval: 200ms
    timeout: 60s
`,
  });
  await mkdir(path.join(cwd, 'schemas/ExerciseCompleted'), { recursive: true });
  await writeFile(path.join(cwd, 'schemas/ExerciseCompleted/0.json'), JSON.stringify(exerciseCompletedSchema));
  const res = await runCli(['run', 'verify.yaml', '--json'], { cwd, env: { MIGRATE_VERIFY_WORKERS: workers } });
  return { ...res, failed: events(res.stdout).find((e) => e.type === 'step.failed')?.error as string | undefined };
}

describe('kafka.verify reads every codec real producers write', () => {
  const producers = {
    'kcat (librdkafka)': (topic: string, codec: string, lines: string[]) => kcatProduce(kafkaBrokers(), topic, lines, ['-z', codec]),
    "Kafka's Java ConsoleProducer": (topic: string, codec: string, lines: string[]) =>
      consoleProduce(kafkaBrokers(), topic, lines, ['--compression-codec', codec, '--producer-property', 'linger.ms=50', '--producer-property', 'batch.size=262144']),
  };
  for (const [client, produce] of Object.entries(producers)) {
    it(`${client}: gzip, snappy, lz4 and zstd batches are all counted and valid`, async () => {
      const topic = unique('codecs');
      await createTopic(topic);
      await Promise.all(CODECS.map((codec) => produce(topic, codec, eventLines(PER_CODEC, codec))));
      // Each codec really is on the topic (a client may silently fall back to none).
      expect(await codecsOn(topic)).toEqual(new Set([1, 2, 3, 4]));
      const total = CODECS.length * PER_CODEC;
      const [inWorker, inThread] = await Promise.all([verify(topic, total, '1'), verify(topic, total, '0')]);
      for (const res of [inWorker, inThread]) {
        expect(res.code, res.stdout + res.stderr).toBe(0);
        // Exactly the events produced: none lost, none counted twice.
        expect(res.stdout).toContain(`"summary":"${total} new events (need ${total}), all valid, no duplicate event_id"`);
      }
    });
  }

  it('a tombstone a real client sent (kcat -Z: an empty value as NULL) is named as such', async () => {
    const topic = unique('tombstone');
    await createTopic(topic);
    await kcatProduce(kafkaBrokers(), topic, [...eventLines(2, 'ex'), 'ex-deleted\t'], ['-Z', '-p', '1']);
    const [inWorker, inThread] = await Promise.all([verify(topic, 10, '1'), verify(topic, 10, '0')]);
    for (const res of [inWorker, inThread]) {
      expect(res.code).toBe(1);
      expect(res.failed).toMatch(/^event at partition 1 offset 2 is a tombstone \(null value\), not a ExerciseCompleted v0 event/);
    }
  });
});
