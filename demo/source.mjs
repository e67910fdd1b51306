#!/usr/bin/env node
// The demo's *source* service: owns the exercise records, serves them over HTTP (the old
// synchronous call) and, while its producer feature flag is ON, publishes ExerciseCompleted
// events to Kafka. Plain JS ESM, Node builtins + kafkajs. See demo/README.md.
//
//   node demo/source.mjs --brokers 127.0.0.1:9092 --topic datarep.exercises --flags ./flags.json \
//     --producer-flag exercises-producer --kind func|form [--port 0] [--rate 40]
//     [--versions 0|1|0,1] [--v0-flag KEY] [--v1-flag KEY] [--v1-topic TOPIC] [--completions]
//     [--operations-token TOKEN]
//
// stdout carries exactly one line, `LISTENING http://127.0.0.1:<port>`, once HTTP listens and the
// producer is connected; everything else goes to stderr.

import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { flagWatcher } from './flags.mjs';
import { demoKafka } from './kafka.mjs';

// kafkajs reads this when the producer is created: silence its partitioner notice.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const NAME = 'source';
const RECORD_COUNT = 100;

// ---------------------------------------------------------------------------------------------
// Options

function usage(message) {
  process.stderr.write(
    `${NAME}: ${message}\nusage: node demo/source.mjs --brokers HOST:PORT[,...] --topic TOPIC --flags FILE ` +
      `--producer-flag KEY [--kind func|form] [--port 0] [--rate 40] [--versions 0|1|0,1] [--v0-flag KEY] [--v1-flag KEY] [--v1-topic TOPIC] [--completions] [--operations-token TOKEN]\n`,
  );
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      brokers: { type: 'string' },
      topic: { type: 'string' },
      flags: { type: 'string' },
      'producer-flag': { type: 'string' },
      kind: { type: 'string', default: 'func' },
      port: { type: 'string', default: '0' },
      rate: { type: 'string', default: '40' },
      versions: { type: 'string', default: process.env.DEMO_VERSIONS ?? '0' },
      'v1-topic': { type: 'string' },
      'v0-flag': { type: 'string' },
      'v1-flag': { type: 'string' },
      completions: { type: 'boolean', default: process.env.DEMO_COMPLETIONS === '1' },
      'operations-token': { type: 'string', default: process.env.DEMO_OPERATIONS_TOKEN },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  usage(err.message);
}
for (const required of ['brokers', 'topic', 'flags', 'producer-flag']) if (!args[required]) usage(`--${required} is required`);
if (args.kind !== 'func' && args.kind !== 'form') usage(`--kind must be func or form, not ${JSON.stringify(args.kind)}`);
const brokers = args.brokers.split(',').map((b) => b.trim()).filter(Boolean);
const port = Number(args.port);
const rate = Number(args.rate);
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be a port number, not ${JSON.stringify(args.port)}`);
if (!Number.isFinite(rate) || rate <= 0) usage(`--rate must be a positive number of events per second, not ${JSON.stringify(args.rate)}`);
const { topic, flags: flagFile } = args;
const producerFlag = args['producer-flag'];

/** "0", "1", "0,1" (or "both"): the versions each operation is published as. */
function parseVersions(text) {
  const list = (text === 'both' ? '0,1' : String(text)).split(',').map((v) => v.trim());
  if (!list.length || list.some((v) => v !== '0' && v !== '1') || new Set(list).size !== list.length) return undefined;
  return list.map(Number).sort();
}
let versions = parseVersions(args.versions);
if (!versions) usage(`--versions must be 0, 1 or 0,1, not ${JSON.stringify(args.versions)}`);
/** Where each version goes: v1 to --v1-topic when given (a topic per version), else beside v0. */
const topicOf = (version) => (version === 1 && args['v1-topic'] ? args['v1-topic'] : topic);
const operationsToken = args['operations-token'] || undefined;
/** A version with a flag of its own is published while that flag is ON, whatever --versions says. */
const versionFlags = { 0: args['v0-flag'], 1: args['v1-flag'] };

const log = (message) => process.stderr.write(`${new Date().toISOString()} [${NAME}] ${message}\n`);

// ---------------------------------------------------------------------------------------------
// Records: deterministic, derived from the id alone, so any process computes the same record.

const TITLES = [
  'Two Sum',
  'Reverse a Linked List',
  'Binary Search',
  'Merge Intervals',
  'LRU Cache',
  'Word Ladder',
  'Valid Parentheses',
  'Top K Frequent Elements',
  'Course Schedule',
  'Trapping Rain Water',
];
const EPOCH = Date.UTC(2026, 0, 5, 9, 0, 0);

/** The record for `ex-0`..`ex-99`; undefined for anything else (including `ex-07`). */
function recordOf(id) {
  const m = /^ex-(0|[1-9][0-9]?)$/.exec(id);
  if (!m) return undefined;
  const n = Number(m[1]);
  return {
    exercise_id: id,
    title: `${TITLES[n % TITLES.length]} #${n}`,
    author_id: `author-${(n * 7) % 13}`,
    candidate_id: `candidate-${(n * 31 + 17) % 97}`,
    completed_at: new Date(EPOCH + n * 3_600_000 + n * 61_000).toISOString(),
  };
}

const randomId = () => `ex-${Math.floor(Math.random() * RECORD_COUNT)}`;

// ---------------------------------------------------------------------------------------------
// Operations: each published event (or pair, v0 and v1) is one business operation, a candidate
// completing an exercise, keyed by [exercise_id, candidate_id]. With --completions each operation
// has a candidate of its own (a new completion); without it the candidate is the record's, as the
// sync endpoint serves it, and the same key comes back whenever the id does.

/** Distinguishes this process's candidates from another source's. */
const RUN_TAG = randomUUID().slice(0, 6);
let operationCount = 0;
/** The operations performed, oldest first: {key, at (epoch ms)}; the last OPERATIONS_KEPT. */
const operations = [];
const OPERATIONS_KEPT = 200_000;

function newOperation() {
  const id = randomId();
  const payload = recordOf(id);
  const n = operationCount++;
  if (args.completions) payload.candidate_id = `candidate-${RUN_TAG}-${n}`;
  const op = { key: [payload.exercise_id, payload.candidate_id], at: Date.now(), payload, score: (n * 37) % 101 };
  operations.push(op);
  if (operations.length > OPERATIONS_KEPT) operations.splice(0, operations.length - OPERATIONS_KEPT);
  return op;
}

// ---------------------------------------------------------------------------------------------
// Kafka

const kafka = demoKafka({ name: NAME, brokers, retries: 3 });
const producer = kafka.producer({ idempotent: false, allowAutoTopicCreation: false });

let produced = 0;
/** The last message sent, as sent: a `duplicate` fault sends it again, same event_id and all. */
let lastMessage;
/** Faults waiting for the next event: each one changes exactly one event. */
const pendingFaults = [];
let duplicateNext = false;

/** Sends run one at a time, in order: faults and duplicates land where they were asked for. */
let chain = Promise.resolve();
function serially(fn) {
  const p = chain.then(fn);
  chain = p.catch(() => {});
  return p;
}

/** The event of an operation as `version`; `fault` (invalid, mismatch) changes its payload. */
function envelope(op, version, fault) {
  const payload = version === 1 ? { ...op.payload, score: op.score } : { ...op.payload };
  if (fault === 'invalid') payload.title = 404; // schema says string
  if (fault === 'mismatch') payload.title = `${payload.title} (stale copy)`;
  if (fault) log(`fault ${fault}: event for ${payload.exercise_id}`);
  return { event_id: randomUUID(), event_version: version, event_name: 'ExerciseCompleted', produced_at: new Date().toISOString(), payload };
}

/** Sends messages ({topic, key, value}) in one request, grouped by topic. */
async function sendMessages(messages) {
  const topics = [...new Set(messages.map((m) => m.topic))];
  await producer.sendBatch({ acks: -1, topicMessages: topics.map((t) => ({ topic: t, messages: messages.filter((m) => m.topic === t).map(({ key, value }) => ({ key, value })) })) });
  produced += messages.length;
  lastMessage = messages[messages.length - 1];
}

/**
 * Performs `count` operations, each published as every version of --versions (one call, one
 * batch); resolves with the number of messages once the broker has them all. A `lost` fault
 * performs its operation without an event; `double` publishes it twice, under two event_ids.
 */
function produceEvents(count) {
  return serially(async () => {
    const messages = [];
    const publishing = currentVersions();
    // No version to publish: no operation is performed either.
    for (let i = 0; i < count && publishing.length; i++) {
      const op = newOperation();
      const fault = pendingFaults.shift();
      if (fault === 'lost') {
        log(`fault lost: operation ${JSON.stringify(op.key)} performed, no event published`);
        continue;
      }
      for (const [n, version] of publishing.entries()) {
        const copies = fault === 'double' ? 2 : 1;
        for (let c = 0; c < copies; c++) {
          const event = envelope(op, version, n === 0 && c === 0 && fault !== 'double' ? fault : undefined);
          const message = { topic: topicOf(version), key: event.payload.exercise_id, value: JSON.stringify(event) };
          messages.push(message);
          if (duplicateNext) {
            duplicateNext = false;
            log(`fault duplicate: event ${event.event_id} sent twice`);
            messages.push(message);
          }
        }
      }
      if (fault === 'double') log(`fault double: operation ${JSON.stringify(op.key)} published under two event_ids`);
    }
    if (messages.length) await sendMessages(messages);
    return messages.length;
  });
}

/** Sends the previous event again; when there is none yet, the next event goes out twice. */
function duplicatePrevious() {
  return serially(async () => {
    if (!lastMessage) {
      duplicateNext = true;
      return;
    }
    log(`fault duplicate: re-sending event ${JSON.parse(lastMessage.value).event_id}`);
    await sendMessages([lastMessage]);
  });
}

// ---------------------------------------------------------------------------------------------
// Publishing at --rate while the flag is ON

const flags = flagWatcher(flagFile, [producerFlag, ...Object.values(versionFlags).filter(Boolean)], (key, on) =>
  log(key === producerFlag ? `flag ${key} is ${on ? 'ON: publishing' : 'OFF: not publishing'} to ${topic}` : `flag ${key} is ${on ? 'ON' : 'OFF'}: publishing ${currentVersions().map((v) => `v${v}`).join(' and ') || 'no version'}`),
);

/** The versions the next operation is published as: by its flag where a version has one, else by --versions (or POST /admin/versions). */
function currentVersions() {
  return [0, 1].filter((v) => (versionFlags[v] ? flags.values[versionFlags[v]] : versions.includes(v)));
}
const tickMs = Math.min(100, Math.max(20, Math.round(1000 / rate)));
let onSince;
let sentSince = 0;
let sending = false;
let lastError = { message: '', at: 0 };

function tick() {
  if (!flags.values[producerFlag]) {
    onSince = undefined;
    return;
  }
  const now = Date.now();
  if (onSince === undefined) {
    onSince = now;
    sentSince = 0;
  }
  if (sending) return;
  let due = Math.floor(((now - onSince) * rate) / 1000) + 1 - sentSince;
  if (due > Math.max(1, rate)) {
    // More than a second behind (a slow or unreachable broker): no burst to catch up, go on from now.
    onSince = now;
    sentSince = 0;
    due = 1;
  }
  if (due <= 0) return;
  sending = true;
  produceEvents(due)
    .catch((err) => {
      // Log a repeating error once every 5 s, not every tick.
      if (err.message !== lastError.message || now - lastError.at > 5000) {
        log(`publishing to ${topic} failed: ${err.message}`);
        lastError = { message: err.message, at: now };
      }
    })
    .finally(() => {
      sentSince += due;
      sending = false;
    });
}

// ---------------------------------------------------------------------------------------------
// HTTP

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      text += chunk;
      if (text.length > 65536) reject(Object.assign(new Error('body too large'), { status: 413 }));
    });
    req.on('end', () => {
      try {
        resolve(text.trim() ? JSON.parse(text) : {});
      } catch {
        reject(Object.assign(new Error('body is not valid JSON'), { status: 400 }));
      }
    });
    req.on('error', reject);
  });
}

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const route = `${req.method} ${url.pathname}`;
  if (route === 'GET /health') return send(res, 200, { status: 'ok', producing: flags.values[producerFlag], produced });

  if (/^\/api\/v0\/exercises\/?$/.test(url.pathname) && req.method === 'GET') {
    const exercises = Array.from({ length: RECORD_COUNT }, (_, n) => recordOf(`ex-${n}`));
    return send(res, 200, { count: exercises.length, exercises });
  }
  const m = /^\/api\/v0\/exercises\/([^/]+)$/.exec(url.pathname);
  if (m && req.method === 'GET') {
    const record = recordOf(decodeURIComponent(m[1]));
    return record ? send(res, 200, record) : send(res, 404, { error: 'not_found', message: `no exercise ${m[1]}` });
  }

  if (route === 'GET /operations') {
    if (operationsToken && req.headers.authorization !== `Bearer ${operationsToken}`) return send(res, 401, { error: 'unauthorized', message: 'a bearer token is required' });
    const from = Date.parse(url.searchParams.get('from') ?? '');
    const to = Date.parse(url.searchParams.get('to') ?? '');
    if (Number.isNaN(from) || Number.isNaN(to)) return send(res, 400, { error: 'bad_request', message: 'from and to must be ISO 8601 times' });
    const list = operations.filter((o) => o.at >= from && o.at < to).map((o) => ({ key: o.key, at: new Date(o.at).toISOString() }));
    return send(res, 200, { operations: list });
  }

  if (route === 'GET /admin/versions') return send(res, 200, { versions: currentVersions() });

  if (route === 'POST /admin/versions') {
    const body = await readJson(req);
    const next = Array.isArray(body?.versions) ? parseVersions(body.versions.join(',')) : undefined;
    if (!next) return send(res, 400, { error: 'bad_request', message: 'versions must be [0], [1] or [0,1]' });
    versions = next;
    log(`publishing ExerciseCompleted ${currentVersions().map((v) => `v${v} to ${topicOf(v)}`).join(' and ') || 'in no version'}`);
    return send(res, 200, { versions: currentVersions() });
  }

  if (route === 'POST /admin/fault') {
    const body = await readJson(req);
    const type = body?.type;
    if (type === 'invalid' || type === 'mismatch' || type === 'double' || type === 'lost') pendingFaults.push(type);
    else if (type === 'duplicate') duplicatePrevious().catch((err) => log(`duplicate failed: ${err.message}`));
    else return send(res, 400, { error: 'bad_request', message: 'type must be one of invalid, duplicate, mismatch, double, lost' });
    log(`fault ${type} accepted`);
    return send(res, 202, { accepted: type });
  }

  if (route === 'POST /admin/produce') {
    const body = await readJson(req);
    const count = body?.count ?? 1;
    if (!Number.isInteger(count) || count < 0 || count > 100_000) {
      return send(res, 400, { error: 'bad_request', message: 'count must be an integer from 0 to 100000' });
    }
    const n = await produceEvents(count);
    return send(res, 200, { produced: n });
  }

  if (['/health', '/admin/fault', '/admin/produce', '/admin/versions', '/operations', '/api/v0/exercises'].includes(url.pathname) || m) {
    return send(res, 405, { error: 'method_not_allowed', message: `${req.method} ${url.pathname}` });
  }
  return send(res, 404, { error: 'not_found', message: `no route ${req.method} ${url.pathname}` });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    if (!res.headersSent) send(res, err.status ?? 500, { error: err.status ? 'bad_request' : 'internal', message: err.message });
    else res.destroy();
  });
});

// ---------------------------------------------------------------------------------------------
// Start and stop

let ticker;
let stopping = false;

async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  flags.stop();
  clearInterval(ticker);
  await chain;
  try {
    await producer.disconnect();
  } catch (err) {
    log(`producer disconnect: ${err.message}`);
  }
  server.closeAllConnections();
  await new Promise((resolve) => server.close(() => resolve()));
  log(`stopped after publishing ${produced} events`);
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
  await producer.connect();
} catch (err) {
  log(`cannot start: ${err.message}`);
  process.exit(1);
}
ticker = setInterval(tick, tickMs);
const address = server.address();
const versionText = [0, 1].map((v) => (versionFlags[v] ? `v${v} to ${topicOf(v)} while ${versionFlags[v]} is ON` : versions.includes(v) ? `v${v} to ${topicOf(v)}` : '')).filter(Boolean);
log(`kind ${args.kind}, versions ${versionText.join(' and ') || 'none'}${args.completions ? ', a candidate per completion' : ''}, brokers ${brokers.join(',')}, flag ${producerFlag} in ${flagFile}, rate ${rate}/s`);
process.stdout.write(`LISTENING http://127.0.0.1:${address.port}\n`);
