// Broker restarts mid-step: a run waiting in kafka.drain (a real group with lag, that a consumer
// then drains) and a run in kafka.verify (events being produced the whole time) each see their
// broker stopped and started again under them. The step rides it out and completes, or fails with
// a clear message and a resume completes; the state file parses at every read and keeps the step's
// history; verify counts every event produced, once. (The runs: test/reliability/kafka-faults.ts.)
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { startKafka, type KafkaHandle } from '../../scripts/kafka-lib.mjs';
import { FaultHarness } from './kafka-faults.js';

const ROUNDS = Number(process.env.RESTART_ROUNDS ?? 2);

let broker: KafkaHandle;
let dataDir: string;
let harness: FaultHarness;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'migrate-kafka-restart-'));
  broker = await startKafka({ dataDir });
  harness = new FaultHarness({ brokers: broker.brokers, faultLabel: 'restarts', replicationFactor: 1 });
});

afterEach(async () => harness.cleanup());

afterAll(async () => {
  await harness?.close();
  await broker?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const restart = () => broker.restart();

describe('broker restart during kafka.drain', () => {
  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: the run waiting for a group to drain survives a restart and completes once a consumer drains the topic`, async (ctx) => {
      await harness.drainThrough(ctx, { round, fault: restart, row: 'broker restart' });
    });
  }
});

describe('broker restart during kafka.verify', () => {
  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: verify counts every event produced across the restart, once`, async (ctx) => {
      await harness.verifyThrough(ctx, { round, fault: restart, row: 'broker restart' });
    });
  }
});
