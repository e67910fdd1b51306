// A real 3-node KRaft cluster (scripts/kafka-lib.mjs startKafkaCluster), topics with replication
// factor 3 and min.insync.replicas 2, and the leader of the partition a run depends on SIGKILLed
// (no shutdown at all) and started again later, while:
//   - kafka.drain waits for a group that a real consumer is draining,
//   - kafka.verify counts events an idempotent producer sends with acks=all,
//   - a run on the Kafka state store writes its state (the state topic's leader is killed).
// And a holder's state write held up past its session timeout (test/support/fencing.ts) is fenced.
// Each run completes (or fails with a clear message and a resume completes); nothing is lost,
// nothing counted or applied twice. The drain and verify runs are those of broker-restart.test.ts
// (kafka-faults.ts); only the fault differs.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaCluster, type KafkaClusterHandle } from '../../scripts/kafka-lib.mjs';
import { connectRunLog } from '../../src/adapters/kafka-connect.js';
import { KafkaRunStore } from '../../src/state/kafka-store.js';
import { events, eventually, runCli, unique, type CliResult } from '../support/cli.js';
import { delayedWriteScenario } from '../support/fencing.js';
import { report } from './figures.js';
import { expectClearFailure, FaultHarness, row, stepRetries, tally } from './kafka-faults.js';
import { STACK_TRACE } from './support.js';

const { ConfigResourceTypes } = kafkajs;

const ROUNDS = Number(process.env.CLUSTER_ROUNDS ?? 1);
const NODES = 3;

let cluster: KafkaClusterHandle;
let dataDir: string;
let harness: FaultHarness;
/** Milliseconds from each SIGKILL to a new leader in the partition's metadata, per test. */
let failovers: number[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'migrate-kafka-cluster-'));
  cluster = await startKafkaCluster({ dataDir, nodes: NODES });
  // The nodes run detached: should this worker die before afterAll, they go with it.
  process.once('exit', killNodesOnExit);
  harness = new FaultHarness({ brokers: cluster.brokers, faultLabel: 'leaders killed', replicationFactor: 3, minInsyncReplicas: 2 });
});

afterEach(async () => {
  failovers = [];
  await harness.cleanup();
  // The next test creates topics with replication factor 3: every node must be back.
  for (const node of cluster.nodes) if (node.pid === null) await cluster.startNode(node.id);
  await eventually(async () => (await describeCluster()).brokers.length === NODES, 120_000, 500);
});

function killNodesOnExit(): void {
  for (const pid of cluster?.pids() ?? []) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

afterAll(async () => {
  await harness?.close();
  await cluster?.stop();
  process.removeListener('exit', killNodesOnExit);
  await rm(dataDir, { recursive: true, force: true });
});

async function withAdmin<T>(fn: (admin: ReturnType<FaultHarness['client']['admin']>) => Promise<T>): Promise<T> {
  const admin = harness.client.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

const describeCluster = () => withAdmin((admin) => admin.describeCluster());

/** The partition's leader and in-sync replicas, as the cluster's metadata says now. */
async function partitionOf(topic: string, partition = 0): Promise<{ leader: number; isr: number[]; replicas: number[] }> {
  return withAdmin(async (admin) => {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const p = meta.topics[0]?.partitions.find((x) => x.partitionId === partition);
    if (!p) throw new Error(`no partition ${partition} of ${topic}`);
    return { leader: p.leader, isr: p.isr, replicas: p.replicas };
  });
}

/**
 * The fault: SIGKILL to the node leading partition 0 of `topic`, a wait until another in-sync
 * replica leads it, then the node started again (the run goes on all the while).
 */
async function killLeader(topic: string): Promise<number> {
  const before = await partitionOf(topic);
  expect(before.replicas).toHaveLength(3);
  const killedAt = Date.now();
  await cluster.killNode(before.leader);
  await eventually(async () => {
    const now = await partitionOf(topic);
    return now.leader >= 0 && now.leader !== before.leader;
  }, 120_000, 200);
  failovers.push(Date.now() - killedAt);
  await cluster.startNode(before.leader);
  return before.leader;
}

// The table adds a row's numbers up across its tests: totals, in whole milliseconds.
const failoverCell = (): Record<string, number> => ({ 'failover ms (total)': failovers.reduce((a, b) => a + b, 0) });

describe(`${NODES}-node cluster: the partition leader killed during kafka.drain`, () => {
  for (let i = 1; i <= ROUNDS; i++) {
    // Even rounds first: a consumer is draining while the leader dies.
    const round = i % 2 === 1 ? 2 : 1;
    it(`round ${i}: the run completes once the consumer has drained every record through the new leader`, async (ctx) => {
      await harness.drainThrough(ctx, { round, fault: (topic) => killLeader(topic), row: 'leader killed: kafka.drain', extra: failoverCell });
    });
  }
});

describe(`${NODES}-node cluster: the partition leader killed during kafka.verify`, () => {
  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: verify counts every event produced with acks=all across the failover, once`, async (ctx) => {
      await harness.verifyThrough(ctx, { round, fault: (topic) => killLeader(topic), row: 'leader killed: kafka.verify', extra: failoverCell });
    });
  }
});

const STEPS = 6;
/** Where the leader dies: as this step starts, its state was just saved and the next save is imminent. */
const KILL_AT = 3;
const SESSION_S = 6;

/** Topics, one per step: each step applies once (CreateTopics), saving state before and after. */
const topicsPlaybook = `name: topics
params:
  topic: { required: true }
steps:
${Array.from(
  { length: STEPS },
  (_, i) => `  - id: create-${i + 1}
    uses: kafka.topic
    # Two replicas: while the killed node is fenced, two brokers are registered.
    with: { name: "\${{ params.topic }}-${i + 1}", partitions: 1, replicationFactor: 2 }
`,
).join('')}`;

describe(`${NODES}-node cluster: the state topic's leader killed while a run on the Kafka store writes its state`, () => {
  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: the run completes, its state reads back completed from another runner, each step applied once`, async (ctx) => {
      const stateTopic = unique('cluster-runs');
      const lockTopic = unique('cluster-locks');
      const t = tally();
      let slowestStep = 0;
      const put = () => report(ctx, 'leader killed: state write', row(t, 'leaders killed', { ...failoverCell(), 'slowest step ms (total)': slowestStep }));
      put();
      const config = `state:\n  store: kafka\n  topic: ${stateTopic}\n  lockTopic: ${lockTopic}\n  sessionTimeout: ${SESSION_S}s\n`;
      const cwd = await harness.runDir({ 'migrate.config.yaml': config, 'topics.yaml': topicsPlaybook });
      const topic = unique('cluster-store');
      const run = `topics-${topic}`;
      const args = ['run', 'topics.yaml', '-p', `topic=${topic}`];

      const first = harness.watched(args, cwd);
      t.runs += 1;
      // The store creates its topic on first use, with the replication the cluster gives.
      await eventually(async () => first.events().some((e) => e.type === 'step.started' && e.step === `create-${KILL_AT}`), 60_000, 5);
      const killed = await killLeader(stateTopic);
      t.faults += 1;

      let done: CliResult = await first.result;
      const failures: string[] = [];
      const outputs = [done];
      t.retries += stepRetries(done);
      if (done.code !== 0) {
        // Failed at a step, or in the store (a state write, the lock): either way one clear line.
        if (events(done.stdout).some((e) => e.type === 'step.failed')) expectClearFailure(done);
        else expect(done.stderr, done.stdout + done.stderr).toMatch(/^error: .*(Kafka|broker|lock|leader)/m);
        expect(done.stdout + done.stderr).not.toMatch(STACK_TRACE);
        failures.push(done.stderr.trim());
        done = await harness.watched(args, cwd).result;
        outputs.push(done);
        t.runs += 1;
        t.retries += stepRetries(done);
        if (done.code === 0) t.resumed += 1;
      }
      if (done.code === 0) t.completed += 1;
      // The step whose state writes met the failover: its saves waited for the new leader.
      slowestStep = Math.max(0, ...outputs.flatMap((o) => events(o.stdout)).filter((e) => e.type === 'step.done').map((e) => Number(e.durationMs)));

      // Another runner (another directory, the same store) reads the run back.
      const other = await harness.runDir({ 'migrate.config.yaml': config });
      const status = await runCli(['status', run, '--json'], { cwd: other, env: { KAFKA_BROKERS: cluster.brokers } });
      const read = status.code === 0 ? (JSON.parse(status.stdout) as { status: string; steps: { id: string; status: string }[] }) : undefined;
      const applied = outputs.flatMap((o) => events(o.stdout)).filter((e) => e.type === 'step.applied').map((e) => e.step);
      const stepIds = Array.from({ length: STEPS }, (_, i) => `create-${i + 1}`);
      t.lost = (read?.status === 'completed' ? 0 : 1) + stepIds.filter((id) => !applied.includes(id)).length + (applied.length - new Set(applied).size);
      put();

      expect(done.code, [...failures, done.stdout + done.stderr].join('\n')).toBe(0);
      // The run itself rides out the failover: a holder that drops out of the lock group while the
      // dead broker's partitions move re-checks the run's state until the cluster answers again,
      // instead of giving the run up as "lost the lock" (as it did in 3 of 9 rounds on 3.9.2 before
      // that was fixed; test/unit/kafka-store.test.ts pins the case down).
      expect(failures).toEqual([]);
      expect(status.code, status.stderr).toBe(0);
      expect(read).toMatchObject({ status: 'completed', steps: stepIds.map((id) => ({ id, status: 'done' })) });
      // Each step applied exactly once across the run (and its resume, if there was one).
      expect(applied).toEqual(stepIds);
      // The killed node was the state topic's leader, and it is back in sync.
      const state = await partitionOf(stateTopic);
      expect(state.replicas).toContain(killed);
      await eventually(async () => (await partitionOf(stateTopic)).isr.length === 3, 120_000, 500);
      // The store made its topic as replicated as the cluster allows: 3 copies, writes need 2.
      const configs = await withAdmin((admin) =>
        admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: stateTopic, configNames: ['min.insync.replicas'] }] }),
      );
      expect(state.replicas).toHaveLength(3);
      expect(configs.resources[0]?.configEntries.find((c) => c.configName === 'min.insync.replicas')?.configValue).toBe('2');
      // The history in the topic has every step's end, and its apply, once: no save lost, none replayed.
      const store = new KafkaRunStore(() => connectRunLog({ brokers: cluster.brokers.split(','), clientId: 'migrate-tests' }), {
        topic: stateTopic,
        lockTopic,
        sessionTimeoutMs: SESSION_S * 1000,
        where: cluster.brokers,
      });
      const saved = await store.read(run);
      for (const id of stepIds) {
        expect(saved?.history.filter((h) => h.step === id && h.type === 'step.done'), id).toHaveLength(1);
      }
      expect(saved?.history.filter((h) => h.type === 'step.applied').map((h) => h.step)).toEqual(stepIds);
      expect(await withAdmin(async (admin) => (await admin.listTopics()).filter((x) => x.startsWith(`${topic}-`)).sort())).toEqual(
        stepIds.map((_, i) => `${topic}-${i + 1}`).sort(),
      );
    });
  }
});

describe(`${NODES}-node cluster: a state write held up past its holder's session timeout (fencing)`, () => {
  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: the late write lands after the new holder's, every reader ignores it, the late holder stops`, async (ctx) => {
      const run = unique('fenced');
      const cells = { 'late writes landed': 0, 'readers that believed it': 0, 'reported fenced': 0, 'late holder stopped (exit 5)': 0, 'takeover ms': 0 };
      report(ctx, 'late write fenced', cells);
      const out = await delayedWriteScenario({ brokers: cluster.brokers, topic: unique('cluster-fence-runs'), lockTopic: unique('cluster-fence-locks'), run, sessionTimeoutMs: SESSION_S * 1000 });
      cells['late writes landed'] = out.endAfterLate - out.endBeforeLate;
      cells['readers that believed it'] = [out.read, out.listed].filter((s) => s?.steps[0]?.summary !== 'B: step 3 done').length;
      cells['reported fenced'] = out.fenced.filter((f) => f.offset === out.endBeforeLate).length;
      cells['late holder stopped (exit 5)'] = out.holderA.code === 5 ? 1 : 0;
      cells['takeover ms'] = Math.round(out.takeoverMs);
      report(ctx, 'late write fenced', cells);
      expect(out.bTookOver?.steps[0]?.summary).toBe('A: step 1 done');
      expect(cells).toMatchObject({ 'late writes landed': 1, 'readers that believed it': 0, 'reported fenced': 1, 'late holder stopped (exit 5)': 1 });
      expect(out.holderA.lastLine).toMatch(/lost the lock of run .*fenced/);
      expect(out.afterB?.steps[0]?.summary).toBe('B: step 4 done');
    });
  }
});
