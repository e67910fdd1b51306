#!/usr/bin/env node
// `npm run demo`: the seed's two procedures, end to end, against a real local Kafka broker.
//
// 1. starts (or reuses) a single-node Kafka from Maven Central jars (scripts/kafka-lib.mjs);
// 2. starts the demo source (HTTP endpoint + Kafka producer behind a flag) in a fresh workspace
//    holding the flag file, the ExerciseCompleted schema and the consumer's code;
// 3. runs `sync-to-async`: it pauses for the consumers (the demo deploys them), verifies real
//    events, stops at the switch gate (exit 3) while the demo removes the synchronous call from
//    the code, then continues with --approve to the end;
// 4. runs `async-to-sync` back (--yes), until the topic is drained and the consumer group deleted;
// 5. runs `event-upgrade`: a new requirement (a score) moves ExerciseCompleted from v0 to v1 on the
//    same topic, read by a new group. A second source publishes each completion as v0, then both
//    (the playbook turns the v1 flag on), then v1 only (v0 flag off); the run stops at its gate
//    while the demo removes the consumer's v0 handling, then continues with --approve;
// 6. prints `migrate status`, stops the services, and the broker if it started it (--keep leaves it).

import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureKafkaJars, runningKafka, startKafka } from './kafka-lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const keep = process.argv.includes('--keep');
const bold = (s) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[0m` : s);
const say = (text) => process.stdout.write(`\n${bold(`== ${text}`)}\n`);
const services = [];


/** Starts a demo service and waits for its LISTENING line. */
function service(script, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'demo', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    services.push(child);
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready:\n${err}`)));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /LISTENING (\S+)/.exec(out);
      if (m) resolve({ url: m[1], child });
    });
  });
}

async function stopService(s) {
  if (!s || s.child.exitCode !== null) return;
  s.child.kill('SIGTERM');
  await new Promise((r) => s.child.once('exit', r));
}

async function waitForStep(stateDir, run, step) {
  for (;;) {
    try {
      const state = JSON.parse(await readFile(path.join(stateDir, `${run}.json`), 'utf8'));
      const s = state.steps.find((x) => x.id === step);
      if (s?.status === 'running' || s?.status === 'done') return;
      if (state.status === 'failed') throw new Error(`run ${run} failed before ${step}`);
    } catch (err) {
      if (err.code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main() {
  say('A local Apache Kafka broker');
  const dataDir = path.join(os.tmpdir(), 'migrate-kafka');
  // KAFKA_BROKERS names a cluster to use instead (the test suite's own broker, say).
  let broker = process.env.KAFKA_BROKERS ? { brokers: process.env.KAFKA_BROKERS } : await runningKafka(dataDir);
  let started;
  if (!broker) {
    const log = (m) => process.stdout.write(`kafka: ${m}\n`);
    await ensureKafkaJars({ log });
    await rm(dataDir, { recursive: true, force: true });
    started = await startKafka({ dataDir, log });
    broker = started;
  }
  process.stdout.write(`KAFKA_BROKERS=${broker.brokers}\n`);

  const work = await mkdtemp(path.join(os.tmpdir(), 'migrate-demo-'));
  const stateDir = path.join(work, '.migrate');
  const topic = `exercises-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
  const flag = `${topic}-async`;
  const producerFlag = `${flag}-producer`;
  const group = `${topic}-consumers`;
  const flags = path.join(work, 'flags.json');
  const flagDef = (on) => ({ state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: on ? 'on' : 'off' });
  await writeFile(flags, JSON.stringify({ $schema: 'https://flagd.dev/schema/v0/flags.json', flags: { [flag]: flagDef(false), [producerFlag]: flagDef(false) } }, null, 2));
  await mkdir(path.join(work, 'schemas/ExerciseCompleted'), { recursive: true });
  await copyFile(path.join(root, 'examples/schemas/ExerciseCompleted/0.json'), path.join(work, 'schemas/ExerciseCompleted/0.json'));
  await mkdir(path.join(work, 'app'));
  const env = { KAFKA_BROKERS: broker.brokers, CI: 'true' };
  const opts = { cwd: work };
  let consumer;
  try {
    const source = await service('source.mjs', ['--brokers', broker.brokers, '--topic', `datarep.${topic}`, '--flags', flags, '--producer-flag', producerFlag, '--kind', 'func', '--rate', '40']);
    const endpoint = `${source.url}/api/v0/exercises`;
    await writeFile(path.join(work, 'app/client.js'), `// the consumer's old synchronous call\nexport const load = (id) => fetch('${endpoint}/' + id);\n`);
    process.stdout.write(`source: ${source.url} (sync endpoint ${endpoint}); workspace ${work}\n`);

    say('sync-to-async: create the topic, register the schema, wait for the consumers');
    const params = ['--param', `topic=${topic}`, '--param', `group=${group}`, '--param', `flag=${flag}`, '--param', `endpoint=${endpoint}`, '--param', 'codePaths=app'];
    const s2a = spawnIn(['run', 'sync-to-async', ...params], env, opts);
    await waitForStep(stateDir, `sync-to-async-${topic}`, 'consumers-ready');
    say('(the team deploys its consumers)');
    const consumerArgs = ['--brokers', broker.brokers, '--topic', `datarep.${topic}`, '--group', group, '--flags', flags, '--flag', flag, '--producer-flag', producerFlag, '--source', source.url];
    consumer = await service('consumer.mjs', consumerArgs);
    const paused = await s2a.code;
    if (paused !== 3) throw new Error(`expected sync-to-async to pause at its gate (exit 3), got ${paused}`);

    say('(a developer removes the synchronous call from the code; the operator approves the switch)');
    await writeFile(path.join(work, 'app/client.js'), '// the consumer reads ExerciseCompleted events now\nexport const onEvent = (e) => e.payload;\n');
    const s2aDone = await spawnIn(['run', 'sync-to-async', '--name', `sync-to-async-${topic}`, '--approve', 'approve-switch'], env, opts).code;
    if (s2aDone !== 0) throw new Error(`sync-to-async did not complete (exit ${s2aDone})`);

    say('(the consumers are redeployed to turn themselves off once the topic is exhausted)');
    await stopService(consumer);
    consumer = await service('consumer.mjs', [...consumerArgs, '--retire-when-drained']);

    say('async-to-sync: back to the synchronous endpoint, producer off, drain, retire the consumers');
    const a2s = await spawnIn(['run', 'async-to-sync', ...params.slice(0, 8), '--param', 'quietFor=5s', '--yes'], env, opts).code;
    if (a2s !== 0) throw new Error(`async-to-sync did not complete (exit ${a2s})`);

    say('event-upgrade: a new requirement (the score) moves ExerciseCompleted from v0 to v1 on the same topic');
    const up = `${topic}-v`;
    await setFlags(flags, { [`${up}-publisher`]: true, [`${up}-v0`]: true, [`${up}-v1`]: false, [`${up}-reads-v1`]: true });
    await copyFile(path.join(root, 'examples/schemas/ExerciseCompleted/1.json'), path.join(work, 'ExerciseCompleted-1.json'));
    await writeFile(path.join(work, 'app/events.js'), '// the consumer reads both versions\nexport const onEvent = (e) => (e.event_version === 0 ? { ...e.payload, score: null } : e.payload);\n');
    // Each completion a business operation of its own, published as the v0 and v1 flags say.
    const publisher = await service('source.mjs', ['--brokers', broker.brokers, '--topic', `datarep.${topic}`, '--flags', flags, '--producer-flag', `${up}-publisher`, '--v0-flag', `${up}-v0`, '--v1-flag', `${up}-v1`, '--completions', '--rate', '40']);
    await service('consumer.mjs', ['--brokers', broker.brokers, '--topic', `datarep.${topic}`, '--group', `${up}-readers`, '--flags', flags, '--flag', `${up}-reads-v1`, '--source', publisher.url]);
    const upParams = [
      '--param', `topic=${topic}`, '--param', `group=${up}-readers`, '--param', `endpoint=${publisher.url}/api/v0/exercises`, '--param', `operationsUrl=${publisher.url}/operations`,
      '--param', 'schema=ExerciseCompleted-1.json', '--param', 'compatibility=NONE', '--param', `consumersFlag=${up}-reads-v1`, '--param', `fromFlag=${up}-v0`, '--param', `toFlag=${up}-v1`,
      '--param', 'codePaths=app', '--param', 'fromHandling=event_version === 0', '--param', 'flagDelay=2s', '--param', 'grace=2s',
    ];
    const upPaused = await spawnIn(['run', 'event-upgrade', ...upParams], env, opts).code;
    if (upPaused !== 3) throw new Error(`expected event-upgrade to pause at its gate (exit 3), got ${upPaused}`);
    say('(v1 flows beside v0; a developer removes the consumer\'s v0 handling; the operator approves v0 off)');
    await writeFile(path.join(work, 'app/events.js'), '// the consumer reads ExerciseCompleted v1\nexport const onEvent = (e) => e.payload;\n');
    const upDone = await spawnIn(['run', 'event-upgrade', '--name', `event-upgrade-${topic}`, '--approve', 'approve-old-off'], env, opts).code;
    if (upDone !== 0) throw new Error(`event-upgrade did not complete (exit ${upDone})`);

    say('migrate status');
    await spawnIn(['status'], env, opts).code;
  } finally {
    await stopService(consumer);
    for (const s of services) if (s.exitCode === null) s.kill('SIGTERM');
    if (started && !keep) {
      say('Stopping the broker (npm run demo -- --keep leaves it running)');
      await started.stop();
    }
    await rm(work, { recursive: true, force: true });
  }
}

/** Sets flags in the flag file (atomically, by rename, as migrate's flag.set writes it). */
async function setFlags(file, values) {
  const doc = JSON.parse(await readFile(file, 'utf8'));
  for (const [key, on] of Object.entries(values)) doc.flags[key] = { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: on ? 'on' : 'off' };
  await writeFile(`${file}.tmp`, JSON.stringify(doc, null, 2));
  await rename(`${file}.tmp`, file);
}

/** migrate with cwd = the demo workspace. */
function spawnIn(args, env, { cwd }) {
  process.stdout.write(`$ migrate ${args.join(' ')}\n`);
  const child = spawn(process.execPath, [path.join(root, 'bin/migrate'), ...args], { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
  return { child, code: new Promise((resolve, reject) => child.once('error', reject).once('close', (code) => resolve(code))) };
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${err.message}\n`);
  process.exitCode = 1;
});
