#!/usr/bin/env node
// The demo's *consumer* service: reads ExerciseCompleted events in a Kafka consumer group and
// keeps the latest payload per exercise; while its async feature flag is OFF it also makes the
// old synchronous call to the source. Plain JS ESM, Node builtins + kafkajs. See demo/README.md.
//
//   node demo/consumer.mjs --brokers 127.0.0.1:9092 --topic datarep.exercises --group exercises-consumers \
//     --flags ./flags.json --flag exercises-async --source http://127.0.0.1:<port> \
//     [--port 0] [--retire-when-drained] [--producer-flag exercises-producer]
//
// stdout carries exactly one line, `LISTENING http://127.0.0.1:<port>`, once HTTP listens and the
// consumer has joined its group; everything else goes to stderr.

import http from 'node:http';
import { parseArgs } from 'node:util';
import { flagWatcher } from './flags.mjs';
import { demoKafka } from './kafka.mjs';


const NAME = 'consumer';
const SYNC_CALLS_PER_SEC = 5;
const SYNC_TIMEOUT_MS = 2000;
const DRAIN_POLL_MS = 250;
const DRAINED_FOR_MS = 2000;

// ---------------------------------------------------------------------------------------------
// Options

function usage(message) {
  process.stderr.write(
    `${NAME}: ${message}\nusage: node demo/consumer.mjs --brokers HOST:PORT[,...] --topic TOPIC --group GROUP --flags FILE ` +
      `--flag KEY --source URL [--port 0] [--retire-when-drained] [--producer-flag KEY]\n`,
  );
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      brokers: { type: 'string' },
      topic: { type: 'string' },
      group: { type: 'string' },
      flags: { type: 'string' },
      flag: { type: 'string' },
      source: { type: 'string' },
      port: { type: 'string', default: '0' },
      'retire-when-drained': { type: 'boolean', default: false },
      'producer-flag': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  usage(err.message);
}
for (const required of ['brokers', 'topic', 'group', 'flags', 'flag', 'source']) if (!args[required]) usage(`--${required} is required`);
const brokers = args.brokers.split(',').map((b) => b.trim()).filter(Boolean);
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be a port number, not ${JSON.stringify(args.port)}`);
let sourceUrl;
try {
  sourceUrl = new URL(args.source);
} catch {
  usage(`--source must be a URL, not ${JSON.stringify(args.source)}`);
}
const { topic, group, flags: flagFile, flag: asyncFlag } = args;
const producerFlag = args['producer-flag'];
const retireWhenDrained = args['retire-when-drained'];

const log = (message) => process.stderr.write(`${new Date().toISOString()} [${NAME}] ${message}\n`);

// ---------------------------------------------------------------------------------------------
// State

/** The latest payload per exercise_id: the consumer's copy of the source's records. */
const latest = new Map();
let consumed = 0;
let unreadable = 0;
let syncCalls = 0;
let syncFailures = 0;
let retired = false;

const flags = flagWatcher(flagFile, producerFlag ? [asyncFlag, producerFlag] : [asyncFlag], (key, on) =>
  log(`flag ${key} is ${on ? 'ON' : 'OFF'}${key === asyncFlag ? (on ? ': async, no synchronous calls' : ': sync, calling the source') : ''}`),
);
const mode = () => (retired ? 'retired' : flags.values[asyncFlag] ? 'async' : 'sync');

// ---------------------------------------------------------------------------------------------
// The old synchronous call: GET <source>/api/v0/exercises/ex-<random>, 5 times a second in sync mode.

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function syncCall() {
  const url = new URL(`api/v0/exercises/ex-${Math.floor(Math.random() * 100)}`, sourceUrl.href.endsWith('/') ? sourceUrl : `${sourceUrl.href}/`);
  return new Promise((resolve) => {
    const req = http.get(url, { agent, timeout: SYNC_TIMEOUT_MS }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        let ok = res.statusCode === 200;
        try {
          ok &&= typeof JSON.parse(text).exercise_id === 'string';
        } catch {
          ok = false;
        }
        resolve(ok ? undefined : `HTTP ${res.statusCode}`);
      });
      res.on('error', (err) => resolve(err.message));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${SYNC_TIMEOUT_MS} ms`)));
    req.on('error', (err) => resolve(err.message));
  });
}

let syncInFlight = 0;
let lastSyncError = { message: '', at: 0 };
function syncTick() {
  if (mode() === 'async' || syncInFlight >= 2) return;
  syncInFlight++;
  syncCalls++;
  syncCall()
    .then((error) => {
      if (!error) return;
      syncFailures++;
      const now = Date.now();
      if (error !== lastSyncError.message || now - lastSyncError.at > 5000) {
        log(`synchronous call to ${sourceUrl.origin} failed: ${error}`);
        lastSyncError = { message: error, at: now };
      }
    })
    .finally(() => syncInFlight--);
}

// ---------------------------------------------------------------------------------------------
// Kafka

const kafka = demoKafka({ name: NAME, brokers, retries: 5 });
const consumer = kafka.consumer({
  groupId: group,
  sessionTimeout: 10_000,
  heartbeatInterval: 1000,
  maxWaitTimeInMs: 250,
  allowAutoTopicCreation: false,
});
const admin = kafka.admin();

async function eachMessage({ message }) {
  consumed++;
  let event;
  try {
    event = JSON.parse(message.value?.toString('utf8') ?? '');
  } catch {
    event = undefined;
  }
  const id = event?.payload?.exercise_id;
  if (typeof id === 'string') latest.set(id, event.payload);
  else unreadable++;
}

let joinedResolve;
const joined = new Promise((resolve) => (joinedResolve = resolve));
let crashed;
consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
  const partitions = Object.entries(payload.memberAssignment ?? {})
    .map(([t, ps]) => `${t}[${ps.join(',')}]`)
    .join(' ');
  log(`joined group ${group} as ${payload.memberId}${payload.isLeader ? ' (leader)' : ''}: ${partitions || 'no partitions'}`);
  joinedResolve();
});
consumer.on(consumer.events.CRASH, ({ payload }) => {
  log(`consumer crashed: ${payload.error?.message ?? payload.error}${payload.restart ? ' (kafkajs restarts it)' : ''}`);
  if (!payload.restart && !retired && !stopping) crashed?.(payload.error ?? new Error('consumer crashed'));
});

// --retire-when-drained: both flags OFF and lag 0 on every partition for 2 s in a row -> leave the group.

/** Lag per partition: log-end minus the group's committed offset (log-start when nothing is committed). */
async function groupLag() {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: group, topics: [topic] })]);
  const byPartition = new Map();
  for (const p of committed.find((t) => t.topic === topic)?.partitions ?? []) byPartition.set(p.partition, Number(p.offset));
  let total = 0;
  for (const e of ends) {
    const c = byPartition.get(e.partition) ?? -1;
    total += Math.max(0, Number(e.high) - (c >= 0 ? c : Number(e.low)));
  }
  return total;
}

/** A consumer rolled out before its topic exists waits for it (and says so) rather than crash. */
async function topicExists() {
  for (let waited = 0; !stopping; waited += 500) {
    if ((await admin.listTopics()).includes(topic)) return;
    if (waited % 10_000 === 0) log(`waiting for topic ${topic} to exist`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

let drainedSince;
let drainTimer;
let lastLag;
async function drainCheck() {
  if (retired || stopping) return;
  try {
    if (flags.values[asyncFlag] || (producerFlag && flags.values[producerFlag])) {
      drainedSince = undefined;
      return;
    }
    const lag = await groupLag();
    if (lag !== lastLag) log(`both flags OFF; group ${group} lag on ${topic}: ${lag}`);
    lastLag = lag;
    if (lag > 0) {
      drainedSince = undefined;
      return;
    }
    drainedSince ??= Date.now();
    if (Date.now() - drainedSince < DRAINED_FOR_MS) return;
    log(`${topic} is exhausted (lag 0 for ${DRAINED_FOR_MS} ms): leaving group ${group}`);
    await consumer.disconnect();
    retired = true;
    await admin.disconnect().catch(() => {});
    log(`retired after consuming ${consumed} events; still serving /health`);
  } catch (err) {
    drainedSince = undefined;
    log(`drain check failed: ${err.message}`);
  } finally {
    if (!retired && !stopping) drainTimer = setTimeout(drainCheck, DRAIN_POLL_MS);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  if (pathname === '/health') {
    if (req.method !== 'GET') return send(res, 405, { error: 'method_not_allowed', message: `${req.method} ${pathname}` });
    return send(res, 200, { status: 'ok', mode: mode(), consumed, syncCalls, syncFailures });
  }
  return send(res, 404, { error: 'not_found', message: `no route ${req.method} ${pathname}` });
});

// ---------------------------------------------------------------------------------------------
// Start and stop

let syncTimer;
let stopping = false;

async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  flags.stop();
  clearInterval(syncTimer);
  clearTimeout(drainTimer);
  if (!retired) {
    try {
      await consumer.disconnect();
    } catch (err) {
      log(`consumer disconnect: ${err.message}`);
    }
    await admin.disconnect().catch(() => {});
  }
  agent.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(() => resolve()));
  log(`stopped after consuming ${consumed} events (${latest.size} exercises, ${unreadable} unreadable), ${syncCalls} sync calls (${syncFailures} failed)`);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  await flags.start();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  await admin.connect();
  await topicExists();
  if (!retireWhenDrained) await admin.disconnect();
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ autoCommit: true, autoCommitInterval: 200, eachMessage });
  await Promise.race([joined, new Promise((_, reject) => (crashed = reject))]);
} catch (err) {
  log(`cannot start: ${err.message}`);
  process.exit(1);
}
crashed = (err) => {
  log(`giving up: ${err.message}`);
  process.exit(1);
};
syncTimer = setInterval(syncTick, 1000 / SYNC_CALLS_PER_SEC);
if (retireWhenDrained) drainTimer = setTimeout(drainCheck, DRAIN_POLL_MS);
log(
  `group ${group} on ${topic} (brokers ${brokers.join(',')}), flag ${asyncFlag}${producerFlag ? ` and ${producerFlag}` : ''} in ${flagFile}, ` +
    `source ${sourceUrl.origin}${retireWhenDrained ? ', retires when drained' : ''}`,
);
process.stdout.write(`LISTENING http://127.0.0.1:${server.address().port}\n`);
