#!/usr/bin/env node
// `npm run bench:curves`: how migrate's cost grows with the size of what it looks at, on one local
// broker: a one-look lag check (kafka.drain) of one group over 100, 1,000 and 10,000 partitions,
// kafka.verify (schema + event_id duplicates, from earliest) over 100k, 1M and 10M events, and the
// Kafka run store's `migrate status` and one-step `migrate run` with 10 to 10,000 runs in the store.
// Each point is the median of --runs (default 3) processes, wall time and peak RSS (GNU time).
// Prints a Markdown table, writes it into its section of bench/RESULTS.md, and writes bench/cost-curves-time.svg and bench/cost-curves-rss.svg
// (drawn by migrate's own chart renderer, dist/ui/svg-chart.js: run `npm run build` first).
// Options: --runs N, --max-events N (the largest verify size, default 10,000,000), --max-runs N
// (the largest store size, default 10,000). CURVES_ONLY=lag|verify|store measures one curve.
// BENCH_CURVES_100M=1 adds verify over 100,000,000 events (written by kcat -P -z lz4 from a generated
// stream, to keep the broker's log small; about 1.6 GB of spilled seen ids in the temp dir; one run).

import { mkdir, mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { benchEvent, createTopicInSteps, fmtStat, repeat, stats, timed, waitForLeaders, writeResultsSection } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '3' }, 'max-events': { type: 'string', default: '10000000' }, 'max-runs': { type: 'string', default: '10000' } } });
const RUNS = Number(opts.runs);
const MAX_EVENTS = Number(opts['max-events']);
const MAX_STORE_RUNS = Number(opts['max-runs']);
const only = (curve) => !process.env.CURVES_ONLY || process.env.CURVES_ONLY === curve;
const migrateBin = process.env.BENCH_MIGRATE_BIN ? path.resolve(process.env.BENCH_MIGRATE_BIN) : path.join(root, 'bin/migrate');
const log = (m) => process.stderr.write(`curves: ${m}\n`);
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const mb = (kb) => kb / 1024;
const fmtMb = (v) => `${v.toFixed(0)} MB`;

async function main() {
  process.env.MIGRATE_KAFKA_JVM_OPTS ??= '-XX:+UseParallelGC';
  const { startKafka } = await import('../scripts/kafka-lib.mjs');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'migrate-curves-kafka-'));
  const broker = await startKafka({ dataDir, log });
  const kafka = new kafkajs.Kafka({ clientId: 'curves', brokers: broker.brokers.split(','), logLevel: kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const work = await mkdtemp(path.join(os.tmpdir(), 'migrate-curves-'));
  const env = { KAFKA_BROKERS: broker.brokers, CI: 'true', NO_COLOR: '1' };
  const tag = Date.now().toString(36);
  const curves = { lag: [], verify: [], status: [], run: [] };
  try {
    // -- lag: one group committed at the log end of N partitions; one look --------------------
    if (only('lag')) for (const partitions of [100, 1000, 10000]) {
      const topic = `curve-lag-${partitions}-${tag}`;
      log(`lag: creating ${topic} with ${partitions} partitions`);
      await createTopicInSteps(admin, topic, partitions);
      const group = `curve-g-${partitions}-${tag}`;
      // A committed offset on every partition (0: nothing written), as a drained group has.
      await admin.setOffsets({ groupId: group, topic, partitions: Array.from({ length: partitions }, (_, p) => ({ partition: p, offset: '0' })) });
      const pb = path.join(work, `lag-${partitions}.yaml`);
      await writeFile(pb, `name: lag\nsteps:\n  - id: drained\n    uses: kafka.drain\n    with: { topic: ${topic}, group: ${group}, samples: 1 }\n    timeout: 60s\n`);
      const runs = await repeat(RUNS, (i) => timed(process.execPath, [migrateBin, 'run', pb, '--name', `lag-${partitions}-${i}`, '--state-dir', path.join(work, 'state')], { env }));
      const point = { size: partitions, ms: stats(runs.map((r) => r.ms)), rss: stats(runs.map((r) => mb(r.rssKb))) };
      curves.lag.push(point);
      log(`lag ${partitions}: ${fmtStat(point.ms)}, ${fmtStat(point.rss, fmtMb)}`);
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    }

    // -- verify: N events from earliest, schema and duplicate check on ---------------------------
    if (only('verify')) await verifyCurve({ kafka, admin, brokers: broker.brokers, work, env, tag, curves });

    // -- the Kafka run store: status and a one-step run with N runs in the store ------------------
    if (only('store')) await storeCurve({ brokers: broker.brokers, work, env, tag, curves });
  } finally {
    await admin.disconnect().catch(() => undefined);
    await broker.stop();
    await rm(work, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  }
  await report(curves);
}

async function verifyCurve({ kafka, admin, brokers, work, env, tag, curves }) {
    const cwd = path.join(work, 'verify');
    await mkdir(path.join(cwd, 'schemas/ExerciseCompleted'), { recursive: true });
    await copyFile(path.join(root, 'examples/schemas/ExerciseCompleted/0.json'), path.join(cwd, 'schemas/ExerciseCompleted/0.json'));
    const topic = `curve-verify-${tag}`;
    await admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: 3 }] });
    await waitForLeaders(admin, topic, 3);
    const producer = kafka.producer();
    await producer.connect();
    const produced_at = new Date().toISOString();
    let written = 0;
    const huge = process.env.BENCH_CURVES_100M === '1' ? [100_000_000] : [];
    for (const events of [100_000, 1_000_000, 10_000_000].filter((n) => n <= MAX_EVENTS).concat(huge)) {
      // The topic grows to each size in turn; verify reads it all from earliest.
      log(`verify: producing up to ${events.toLocaleString('en')} events`);
      if (events > 10_000_000) written = await produceWithKcat(brokers, topic, written, events, produced_at);
      for (; written < events; ) {
        const messages = [];
        for (const end = Math.min(events, written + 5000); written < end; written++) messages.push(benchEvent(written, produced_at));
        await producer.send({ topic, acks: 1, compression: kafkajs.CompressionTypes.None, messages });
      }
      const pb = `verify-${events}.yaml`;
      await writeFile(path.join(cwd, pb), `name: verify\nsteps:\n  - id: verify\n    uses: kafka.verify\n    with: { topic: ${topic}, event: ExerciseCompleted, version: 0, minEvents: ${events}, from: earliest }\n    interval: 200ms\n    timeout: 60m\n`);
      const runs = await repeat(events > 10_000_000 ? 1 : RUNS, (i) => timed(process.execPath, [migrateBin, 'run', pb, '--name', `v${events}-${i}`], { env, cwd }));
      const point = { size: events, ms: stats(runs.map((r) => r.ms)), rss: stats(runs.map((r) => mb(r.rssKb))) };
      curves.verify.push(point);
      log(`verify ${events}: ${fmtStat(point.ms)}, ${Math.round(events / (point.ms.median / 1000)).toLocaleString('en')} ev/s, ${fmtStat(point.rss, fmtMb)}`);
    }
    await producer.disconnect();
}

/**
 * The Kafka run store with 10 to 10,000 runs on its state topic: `migrate status` (reads the topic
 * to its end and lists every run) and a one-step `migrate run` of a new run (lock group, claim,
 * saves, release). The runs are copies of one real run's state, each appended as the claim a process
 * writes when it takes a run's lock, so the topic holds what migrate writes. The broker is
 * the test broker (no new-group delay): the curve is about size, bench/run.mjs has the delay's cost.
 */
async function storeCurve({ brokers, work, env, tag, curves }) {
  const cwd = path.join(work, 'store');
  await mkdir(cwd, { recursive: true });
  await writeFile(path.join(cwd, 'one.yaml'), 'name: one\nsteps:\n  - id: wait\n    uses: pause\n    with: { for: 0ms }\n');
  const topic = `curve-runs-${tag}`;
  const lockTopic = `curve-locks-${tag}`;
  await writeFile(path.join(cwd, 'migrate.config.yaml'), `state:\n  store: kafka\n  topic: ${topic}\n  lockTopic: ${lockTopic}\n`);
  const storeEnv = { ...env, KAFKA_BROKERS: brokers };
  await timed(process.execPath, [migrateBin, 'run', 'one.yaml', '--name', 'seed'], { env: storeEnv, cwd });
  const { KafkaRunStore } = await import('../dist/state/kafka-store.js');
  const { connectRunLog } = await import('../dist/adapters/kafka-connect.js');
  const { fencedValue, sessionKey } = await import('../dist/state/kafka-fence.js');
  const connect = () => connectRunLog({ brokers: brokers.split(','), clientId: 'curves-store' });
  const seed = await new KafkaRunStore(connect, { topic, lockTopic, sessionTimeoutMs: 10_000, where: brokers }).read('seed');
  if (!seed) throw new Error('store: the seed run was not saved');
  const runLog = await connect();
  let stored = 1;
  for (const runs of [10, 100, 1000, 10000].filter((n) => n <= MAX_STORE_RUNS)) {
    const began = Date.now();
    // Each copy is what the store appends when a process takes a run's lock: a claim keyed by the
    // run's session, carrying its state (kafka-fence.ts). Appended 100 at a time.
    while (stored < runs) {
      const { end } = await runLog.offsets(topic);
      const batch = [];
      for (; stored < runs && batch.length < 100; stored++) {
        const name = `copy-${stored}`;
        batch.push(runLog.append(topic, sessionKey(name, end, stored.toString(16)), fencedValue({ ...seed, name }, { token: end, seq: 0 })));
      }
      await Promise.all(batch);
    }
    log(`store: ${runs} runs stored (${Date.now() - began} ms to write)`);
    const status = await repeat(RUNS, () => timed(process.execPath, [migrateBin, 'status'], { env: storeEnv, cwd }));
    curves.status.push({ size: runs, ms: stats(status.map((r) => r.ms)), rss: stats(status.map((r) => mb(r.rssKb))) });
    // Each timed run adds one run to the store: within a point that is RUNS more, a few per cent of 10.
    const run = await repeat(RUNS, (i) => timed(process.execPath, [migrateBin, 'run', 'one.yaml', '--name', `one-${runs}-${i}`], { env: storeEnv, cwd }));
    curves.run.push({ size: runs, ms: stats(run.map((r) => r.ms)), rss: stats(run.map((r) => mb(r.rssKb))) });
    log(`store ${runs}: status ${fmtStat(curves.status.at(-1).ms)}, run ${fmtStat(curves.run.at(-1).ms)}`);
  }
  await runLog.close();
}

const curveNames = { lag: 'lag check (partitions)', verify: 'verify (events)', status: 'store: status (runs)', run: 'store: run (runs)' };

async function report(curves) {
  const { renderLineChart } = await import('../dist/ui/svg-chart.js');
  const keys = Object.keys(curveNames).filter((k) => curves[k].length);
  const series = (key, pick) => ({ name: curveNames[key], points: curves[key].map((p) => ({ t: p.size, v: pick(p) })) });
  const x = { scale: 'log10', label: 'size: partitions (lag check), events (verify), runs in the store (Kafka store), log scale' };
  await writeFile(path.join(root, 'bench/cost-curves-time.svg'), renderLineChart({ title: 'Wall time against size (median)', yLabel: 'seconds, log scale', x, y: { scale: 'log10' }, series: keys.map((k) => series(k, (p) => p.ms.median / 1000)) }));
  await writeFile(path.join(root, 'bench/cost-curves-rss.svg'), renderLineChart({ title: 'Peak RSS against size (median)', yLabel: 'MB, log scale', x, y: { scale: 'log10' }, series: keys.map((k) => series(k, (p) => p.rss.median)) }));
  const row = (label, unit, per) => (p, i, all) => `| ${label} | ${p.size.toLocaleString('en')} ${unit} | ${fmtStat(p.ms)} | ${fmtStat(p.rss, fmtMb)} | ${per(p, all[i - 1])} |`;
  // The growth from the point before: what each added partition or run costs (the first point has none).
  const slope = (unit) => (p, prev) => (prev ? `+${(((p.ms.median - prev.ms.median) * 1000) / (p.size - prev.size)).toFixed(0)} µs per added ${unit}` : '');
  const lines = [
    '| curve | size | wall time | peak RSS | growth |',
    '|---|---|---|---|---|',
    ...curves.lag.map(row('lag check, 1 group', 'partitions', slope('partition'))),
    ...curves.verify.map(row('verify, schema + duplicates', 'events', (p) => `${Math.round(p.size / (p.ms.median / 1000)).toLocaleString('en')} ev/s`)),
    ...curves.status.map(row('Kafka store: migrate status', 'runs', slope('run'))),
    ...curves.run.map(row('Kafka store: one-step migrate run', 'runs', slope('run'))),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  log(`wrote bench/cost-curves-time.svg and bench/cost-curves-rss.svg`);
  if (process.env.CURVES_ONLY) return log('CURVES_ONLY: bench/RESULTS.md not written (it keeps the curves of one whole run)');
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, Kafka 4.1.2 (single broker, local)`;
  await writeResultsSection(
    'curves',
    `## Cost curves, one run (\`npm run bench:curves\`, ${new Date().toISOString().slice(0, 10)})\n\nMedian of ${RUNS} processes per point (min–max), wall time and peak RSS of the whole process. Machine: ${machine}.\n\n${lines.join('\n')}\n\n![wall time against size](cost-curves-time.svg)\n![peak RSS against size](cost-curves-rss.svg)\n`,
  );
  log('wrote the curves into bench/RESULTS.md');
}

/**
 * Events `from` to `to` as the kafkajs loop above writes them, through kcat -P -z lz4 from a
 * generated stream (no file of tens of GB); kcat's partitioner spreads them over the partitions by key.
 */
async function produceWithKcat(brokers, topic, from, to, produced_at) {
  const kcat = spawn('kcat', ['-P', '-b', brokers, '-t', topic, '-K', '\t', '-z', 'lz4', '-X', 'linger.ms=50', '-X', 'batch.size=1000000'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = once(kcat, 'exit');
  for (let i = from; i < to; ) {
    const lines = [];
    for (const end = Math.min(to, i + 10_000); i < end; i++) {
      const e = benchEvent(i, produced_at);
      lines.push(`${e.key}\t${e.value}\n`);
    }
    if (!kcat.stdin.write(lines.join(''))) await once(kcat.stdin, 'drain');
    if (i % 10_000_000 === 0) log(`verify: kcat wrote ${i.toLocaleString('en')} events`);
  }
  kcat.stdin.end();
  const [code] = await exited;
  if (code !== 0) throw new Error(`kcat -P exited with ${code}`);
  return to;
}

main().catch((err) => {
  log(`failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
