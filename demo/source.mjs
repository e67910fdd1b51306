#!/usr/bin/env node
// The demo's *source* service: owns the exercise records, serves them over HTTP (the old
// synchronous call) and, while its producer feature flag is ON, publishes ExerciseCompleted
// events to Kafka. Plain JS ESM, Node builtins + kafkajs. See demo/README.md.
//
//   node demo/source.mjs --brokers 127.0.0.1:9092 --topic datarep.exercises --flags ./flags.json \
//     --producer-flag exercises-producer --kind func|form [--port 0] [--rate 40]
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
      `--producer-flag KEY [--kind func|form] [--port 0] [--rate 40]\n`,
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

function envelope(id) {
  const payload = recordOf(id);
  const fault = pendingFaults.shift();
  if (fault === 'invalid') payload.title = 404; // schema says string
  if (fault === 'mismatch') payload.title = `${payload.title} (stale copy)`;
  if (fault) log(`fault ${fault}: event for ${id}`);
  return { event_id: randomUUID(), event_version: 0, event_name: 'ExerciseCompleted', produced_at: new Date().toISOString(), payload };
}

async function sendMessages(messages) {
  await producer.send({ topic, acks: -1, messages });
  produced += messages.length;
  lastMessage = messages[messages.length - 1];
}

/** Publishes `count` fresh events (one call, one batch); resolves when the broker has them all. */
function produceEvents(count) {
  return serially(async () => {
    const messages = [];
    for (let i = 0; i < count; i++) {
      const event = envelope(randomId());
      const message = { key: event.payload.exercise_id, value: JSON.stringify(event) };
      messages.push(message);
      if (duplicateNext) {
        duplicateNext = false;
        log(`fault duplicate: event ${event.event_id} sent twice`);
        messages.push(message);
      }
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

const flags = flagWatcher(flagFile, [producerFlag], (key, on) => log(`flag ${key} is ${on ? 'ON: publishing' : 'OFF: not publishing'} to ${topic}`));
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

  if (route === 'POST /admin/fault') {
    const body = await readJson(req);
    const type = body?.type;
    if (type === 'invalid' || type === 'mismatch') pendingFaults.push(type);
    else if (type === 'duplicate') duplicatePrevious().catch((err) => log(`duplicate failed: ${err.message}`));
    else return send(res, 400, { error: 'bad_request', message: 'type must be one of invalid, duplicate, mismatch' });
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

  if (['/health', '/admin/fault', '/admin/produce', '/api/v0/exercises'].includes(url.pathname) || m) {
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
log(`kind ${args.kind}, topic ${topic}, brokers ${brokers.join(',')}, flag ${producerFlag} in ${flagFile}, rate ${rate}/s`);
process.stdout.write(`LISTENING http://127.0.0.1:${address.port}\n`);
