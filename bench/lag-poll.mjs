#!/usr/bin/env node
// The lag poll inside a running kafka.drain (warm connection), beside one run of Kafka's
// consumer-groups tool (ConsumerGroupCommand --describe, a JVM process) on the same layout:
//
//   1 group x 1,000 partitions, 1 group x 10,000 partitions: one poll is the adapter call kafka.drain
//     makes each interval, groupOffsets(group, topic); the tool runs with --describe --group g.
//   100 groups x 100 partitions (one topic that 100 consumer services read, each its own group): one
//     poll is the offsets of all 100 groups, groupsOffsets(groups, topic) where the adapter has it
//     (older builds: 100 groupOffsets calls); the tool runs with --describe and one --group per group
//     (not --all-groups, which on a shared cluster also describes every other team's groups).
//
// Per layout: --warmup polls, then --polls polls timed one by one (median wall time and client CPU per
// poll), and --tool-runs runs of the tool (median wall time). Topics are kept between runs (named by
// layout), so an A/B against another build reuses them: BENCH_DIST=/path/to/dist measures that build.
//
//   KAFKA_BROKERS=127.0.0.1:9092 node bench/lag-poll.mjs [--polls 20] [--tool-runs 3] [--layouts 1000,10000,100x100]
//
// Without KAFKA_BROKERS it starts a broker of its own. `npm run build` first. Prints a Markdown table.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { createTopicInSteps, fmtMs, repeat, stats, timed } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.resolve(process.env.BENCH_DIST ?? path.join(root, 'dist'));
const log = (m) => process.stderr.write(`lag-poll: ${m}\n`);
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

/** "1000" -> 1 group x 1,000 partitions; "100x100" -> 100 groups x 100 partitions. */
function parseLayout(s) {
  const [a, b] = s.split('x').map(Number);
  return b === undefined ? { groups: 1, partitions: a } : { groups: a, partitions: b };
}

/** Run by bench/run.mjs too: the rows of the warm-poll section, for the brokers and jars given. */
export async function lagPollRows({ brokers, libs, layouts = ['1000', '10000', '100x100'].map(parseLayout), polls = 20, warmup = 3, toolRuns = 3 }) {
  const { connectKafka } = await import(pathToFileURL(path.join(dist, 'adapters/kafka-connect.js')).href);
  const kafka = new kafkajs.Kafka({ clientId: 'lag-poll-setup', brokers: brokers.split(','), logLevel: kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const cluster = await connectKafka({ brokers: brokers.split(','), clientId: 'lag-poll' });
  const rows = [];
  try {
    for (const { groups, partitions } of layouts) {
      const label = `${groups} ${groups === 1 ? 'group' : 'groups'} × ${partitions.toLocaleString('en')} partitions`;
      // kafka.drain polls one group; the offsets of many groups at once are the adapter's groupsOffsets.
      const many = cluster.groupsOffsets ? "adapter's groupsOffsets" : `${groups} groupOffsets calls: this build has no groupsOffsets`;
      const what = groups === 1 ? `lag poll in a running kafka.drain (warm), ${label}` : `lag poll of ${label} at once (warm; ${many})`;
      const topic = `lag-poll-${partitions}`;
      if (!(await admin.listTopics()).includes(topic)) {
        log(`creating ${topic}`);
        await createTopicInSteps(admin, topic, partitions);
      }
      const groupIds = Array.from({ length: groups }, (_, g) => `lag-poll-${partitions}-g${g}`);
      // A committed offset on every partition, as a group that consumed the topic has (lag 0: nothing written).
      // A fresh broker creates __consumer_offsets on the first group call: its coordinator takes a moment.
      const committed = await retried(() => admin.fetchOffsets({ groupId: groupIds[groupIds.length - 1], topics: [topic] }));
      if (committed[0]?.partitions.some((p) => Number(p.offset) < 0)) {
        log(`committing ${groups} group(s) on ${topic}`);
        // kafkajs's setOffsets waits seconds per group, mostly idle: 25 groups at a time.
        for (let i = 0; i < groupIds.length; i += 25) {
          await Promise.all(groupIds.slice(i, i + 25).map((groupId) => admin.setOffsets({ groupId, topic, partitions: Array.from({ length: partitions }, (_, partition) => ({ partition, offset: '0' })) })));
        }
      }
      const poll =
        groups === 1
          ? () => cluster.groupOffsets(groupIds[0], topic).then((o) => check(o.length, partitions))
          : cluster.groupsOffsets
            ? () => cluster.groupsOffsets(groupIds, topic).then((byGroup) => groupIds.forEach((g) => check(byGroup.get(g)?.length, partitions)))
            : async () => {
                for (const g of groupIds) check((await cluster.groupOffsets(g, topic)).length, partitions);
              };
      for (let i = 0; i < warmup; i++) await poll();
      const wall = [];
      const cpuBefore = process.cpuUsage();
      for (let i = 0; i < polls; i++) {
        const t = process.hrtime.bigint();
        await poll();
        wall.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      const used = process.cpuUsage(cpuBefore);
      const ours = stats(wall);
      const cpuMs = (used.user + used.system) / 1000 / polls;
      log(`${label}: poll ${ours.median.toFixed(2)} ms (${ours.min.toFixed(2)}–${ours.max.toFixed(2)}), client CPU ${cpuMs.toFixed(2)} ms per poll`);
      let tool;
      if (libs && toolRuns > 0) {
        const args = ['-Xmx512m', '-cp', `${libs}/*`, 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', '--bootstrap-server', brokers, '--describe', ...groupIds.flatMap((g) => ['--group', g])];
        tool = stats((await repeat(toolRuns, () => timed('java', args))).map((r) => r.ms));
        log(`${label}: ConsumerGroupCommand --describe ${fmtMs(tool.median)} (${fmtMs(tool.min)}–${fmtMs(tool.max)})`);
      }
      const ratio = tool ? tool.median / ours.median : undefined;
      rows.push({
        what: `${what} (client CPU ${cpuMs.toFixed(2)} ms/poll)`,
        migrate: `${ours.median.toFixed(1)} ms (${ours.min.toFixed(1)}–${ours.max.toFixed(1)} ms)`,
        peer: tool ? `ConsumerGroupCommand --describe ${fmtMs(tool.median)} (${fmtMs(tool.min)}–${fmtMs(tool.max)})` : '',
        ratio: ratio ? `${ratio.toFixed(0)}× faster` : '',
        target: '≥ 20×',
        ok: ratio === undefined ? undefined : ratio >= 20,
      });
    }
  } finally {
    await cluster.close();
    await admin.disconnect();
  }
  return rows;
}

async function retried(fn, attempts = 20) {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function check(got, partitions) {
  if (got !== partitions) throw new Error(`a poll answered for ${got} partitions, not ${partitions}`);
}

async function main() {
  const { values: opts } = parseArgs({
    options: {
      polls: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '3' },
      'tool-runs': { type: 'string', default: '3' },
      layouts: { type: 'string', default: '1000,10000,100x100' },
    },
  });
  const toolRuns = Number(opts['tool-runs']);
  process.env.MIGRATE_KAFKA_JVM_OPTS ??= '-XX:+UseParallelGC';
  const { ensureKafkaJars, startKafka } = await import('../scripts/kafka-lib.mjs');
  const libs = toolRuns > 0 ? await ensureKafkaJars({ log }) : undefined;
  let brokers = process.env.KAFKA_BROKERS;
  let broker;
  let dataDir;
  if (!brokers) {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'migrate-lag-poll-kafka-'));
    broker = await startKafka({ dataDir, log });
    brokers = broker.brokers;
  }
  try {
    const rows = await lagPollRows({ brokers, libs, layouts: opts.layouts.split(',').map(parseLayout), polls: Number(opts.polls), warmup: Number(opts.warmup), toolRuns });
    const lines = ['| measurement | migrate | peer | ratio | target | met |', '|---|---|---|---|---|---|', ...rows.map((r) => `| ${r.what} | ${r.migrate} | ${r.peer} | ${r.ratio} | ${r.target} | ${r.ok === undefined ? '' : r.ok ? 'yes' : '**no**'} |`)];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await broker?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    log(`failed: ${err.stack ?? err.message}`);
    process.exitCode = 1;
  });
}
