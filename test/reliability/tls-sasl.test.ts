// Kafka over TLS and SASL/SCRAM, against a real broker configured for them (scripts/kafka-lib.mjs
// startKafka({ security })): SSL, SASL_SSL and SASL_PLAINTEXT listeners, a throwaway CA, SCRAM-SHA-256
// and -512 credentials. The built CLI runs a playbook that creates a topic (admin), reads and checks
// events (consume) and waits for a group to drain (offsets) over each; one run keeps its state in the
// Kafka run store (produce). A wrong password, an untrusted certificate and an unreadable CA fail
// with messages that say what to do, and the password appears in no output and no state.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type KafkaHandle, type KafkaSecurity } from '../../scripts/kafka-lib.mjs';
import { events, eventually, runCli, startCli, unique, workdir, type CliResult } from '../support/cli.js';
import { exerciseEvent } from '../support/seed-schema.js';
import { report } from './figures.js';
import { STACK_TRACE, snapshotFiles } from './support.js';

const { Kafka, logLevel } = kafkajs;

const USER = 'migrate-ci';
const PASSWORD = `scram-${randomBytes(12).toString('hex')}`;
const WRONG_PASSWORD = `wrong-${randomBytes(12).toString('hex')}`;
const EVENTS = 5;

const playbook = `name: secure
params:
  topic: { required: true }
  group: { required: true }
steps:
  - id: create-topic
    uses: kafka.topic
    with: { name: "\${{ params.topic }}", partitions: 2 }
  - id: verify
    uses: kafka.verify
    with: { topic: "\${{ params.topic }}", event: ExerciseCompleted, version: 0, minEvents: ${EVENTS}, from: earliest }
    timeout: 90s
    interval: 250ms
  - id: drain
    uses: kafka.drain
    with: { topic: "\${{ params.topic }}", group: "\${{ params.group }}", samples: 2 }
    timeout: 90s
    interval: 250ms
`;

let broker: KafkaHandle;
let security: KafkaSecurity;
let dataDir: string;
let plain: InstanceType<typeof Kafka>;
const dirs: string[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'migrate-kafka-secure-'));
  broker = await startKafka({ dataDir, security: { users: [{ name: USER, password: PASSWORD }] } });
  if (!broker.security) throw new Error('startKafka({ security }) returned no secured listeners');
  security = broker.security;
  // The test's own client sets up and reads back the world on the PLAINTEXT listener.
  plain = new Kafka({ clientId: 'migrate-tests', brokers: [broker.brokers], logLevel: logLevel.NOTHING });
});

afterAll(async () => {
  await broker?.stop();
  await rm(dataDir, { recursive: true, force: true });
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Everything the test saw `migrate` print or leave behind, to scan for the password. */
const outputs: { what: string; text: string }[] = [];
function keep(what: string, r: CliResult): CliResult {
  outputs.push({ what: `${what} (stdout)`, text: r.stdout }, { what: `${what} (stderr)`, text: r.stderr });
  return r;
}
async function keepFiles(what: string, cwd: string): Promise<void> {
  for (const file of (await snapshotFiles(cwd)).keys()) outputs.push({ what: `${what}: ${file}`, text: await readFile(path.join(cwd, file), 'utf8') });
}

async function secureDir(files: Record<string, string> = {}): Promise<string> {
  const cwd = await workdir({ 'secure.yaml': playbook, ...files });
  dirs.push(cwd);
  await cp(new URL('../../examples/schemas', import.meta.url), path.join(cwd, 'schemas'), { recursive: true });
  return cwd;
}

/** Once `migrate` has created the topic: events on it, and the group's offsets committed to their end. */
async function feed(topic: string, group: string): Promise<void> {
  const admin = plain.admin();
  await admin.connect();
  try {
    await eventually(async () => (await admin.listTopics()).includes(topic), 60_000, 100);
    const producer = plain.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: Array.from({ length: EVENTS }, (_, i) => ({ key: `k${i}`, value: JSON.stringify(exerciseEvent(`r${i}`)) })) });
    await producer.disconnect();
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({ groupId: group, topic, partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })) });
  } finally {
    await admin.disconnect();
  }
}

interface Case {
  name: string;
  /** The listener and the environment of the run, once the broker is up. */
  make: (s: KafkaSecurity) => { brokers: string; env: Record<string, string | undefined>; config?: string };
}

const SCRAM = (mechanism: string) => ({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: USER, KAFKA_SASL_PASSWORD: PASSWORD });

let completed = 0;
let refused = 0;

describe('Kafka over TLS and SASL/SCRAM, on a broker configured for them', () => {
  const cases: Case[] = [
    { name: 'TLS (SSL listener), CA from KAFKA_SSL_CA', make: (x) => ({ brokers: x.ssl, env: { KAFKA_SSL_CA: x.caFile } }) },
    { name: 'SASL_SSL, SCRAM-SHA-256', make: (x) => ({ brokers: x.saslSsl, env: { KAFKA_SSL_CA: x.caFile, ...SCRAM('scram-sha-256') } }) },
    {
      name: 'SASL_SSL, SCRAM-SHA-512, from migrate.config.yaml, state in the Kafka run store',
      make: (x) => ({
        brokers: x.saslSsl,
        env: { KAFKA_SASL_PASSWORD: PASSWORD },
        config:
          `kafka:\n  brokers: [${x.saslSsl}]\n  ssl: { ca: ca.pem }\n  sasl: { mechanism: scram-sha-512, username: ${USER} }\n` +
          `state:\n  store: kafka\n  topic: ${unique('secure-runs')}\n  lockTopic: ${unique('secure-locks')}\n  sessionTimeout: 6s\n`,
      }),
    },
    { name: 'SASL_PLAINTEXT, SCRAM-SHA-256', make: (x) => ({ brokers: x.saslPlaintext, env: SCRAM('scram-sha-256') }) },
  ];

  for (const spec of cases) {
    it(`runs a playbook over ${spec.name}`, async (ctx) => {
      const c = { name: spec.name, ...spec.make(security) };
      const topic = unique('secure');
      const group = unique('secure-group');
      const cwd = await secureDir();
      const env: Record<string, string | undefined> = { KAFKA_BROKERS: c.brokers, ...c.env };
      if (c.config) {
        await cp(security.caFile, path.join(cwd, 'ca.pem'));
        await writeFile(path.join(cwd, 'migrate.config.yaml'), c.config);
        env.KAFKA_BROKERS = undefined; // the config file names them
      }
      const child = startCli(['run', 'secure.yaml', '-p', `topic=${topic}`, '-p', `group=${group}`, '--yes', '--json'], { cwd, env });
      await feed(topic, group);
      const done = keep(c.name, await child.result);
      const status = keep(`${c.name}: status`, await runCli(['status', `secure-${topic}`, '--json'], { cwd, env }));
      await keepFiles(c.name, cwd);
      if (done.code === 0) completed += 1;
      report(ctx, 'kafka TLS + SASL/SCRAM', { 'runs completed': done.code === 0 ? 1 : 0 });

      expect(done.code, `${c.name}\n${done.stdout}\n${done.stderr}`).toBe(0);
      const finished = events(done.stdout).filter((e) => e.type === 'step.done').map((e) => e.step);
      expect(finished).toEqual(['create-topic', 'verify', 'drain']);
      expect(events(done.stdout).find((e) => e.type === 'step.done' && e.step === 'verify')).toMatchObject({ summary: expect.stringContaining(`${EVENTS} new events`) });
      expect(JSON.parse(status.stdout)).toMatchObject({ status: 'completed' });
      // The topic migrate created over the secured listener is there, as declared.
      const admin = plain.admin();
      await admin.connect();
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      await admin.disconnect();
      expect(meta.topics[0]?.partitions.length).toBe(2);
    });
  }

  it('a wrong password fails the step at once with "authentication failed for user X (SCRAM-SHA-256)", exit 1', async (ctx) => {
    const env = { KAFKA_BROKERS: security.saslSsl, KAFKA_SSL_CA: security.caFile, ...SCRAM('scram-sha-256'), KAFKA_SASL_PASSWORD: WRONG_PASSWORD };
    const cwd = await secureDir();
    const topic = unique('secure-denied');
    const human = keep('wrong password', await runCli(['run', 'secure.yaml', '-p', `topic=${topic}`, '-p', 'group=g', '--yes'], { cwd, env }));
    const json = keep('wrong password --json', await runCli(['run', 'secure.yaml', '-p', `topic=${topic}`, '-p', 'group=g', '--yes', '--json'], { cwd, env }));
    const status = keep('wrong password: status', await runCli(['status', `secure-${topic}`, '--json'], { cwd, env }));
    await keepFiles('wrong password', cwd);
    const ok = human.code === 1 && json.code === 1;
    if (ok) refused += 2;
    report(ctx, 'kafka TLS + SASL/SCRAM', { 'refused as expected': ok ? 2 : 0 });

    expect(human.code, human.stdout + human.stderr).toBe(1);
    expect(human.stdout + human.stderr).toContain(`authentication failed for user ${USER} (SCRAM-SHA-256)`);
    expect(human.stdout + human.stderr).not.toMatch(STACK_TRACE);
    expect(json.code).toBe(1);
    const failed = events(json.stdout).find((e) => e.type === 'step.failed');
    expect(failed).toMatchObject({ step: 'create-topic', error: expect.stringContaining(`authentication failed for user ${USER} (SCRAM-SHA-256)`) });
    // Not retried: a wrong password does not get better by asking again.
    expect(events(json.stdout).filter((e) => e.type === 'step.retry')).toEqual([]);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: 'failed', steps: [{ id: 'create-topic', status: 'failed' }, { status: 'pending' }, { status: 'pending' }] });
    // Nothing was created on the cluster.
    const admin = plain.admin();
    await admin.connect();
    expect(await admin.listTopics()).not.toContain(topic);
    await admin.disconnect();
  });

  it('an untrusted certificate fails with "set KAFKA_SSL_CA"; an unreadable CA file is bad input (exit 2)', async (ctx) => {
    // A CA that did not sign the broker's certificate.
    const otherCa = path.join(await secureDir(), 'other-ca.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${otherCa}.key`, '-out', otherCa, '-days', '1', '-subj', '/CN=not the broker CA'], { stdio: 'ignore' });
    const runs: [string, Record<string, string>][] = [
      ['TLS, system CAs only', { KAFKA_BROKERS: security.saslSsl, KAFKA_SSL: 'true', ...SCRAM('scram-sha-512') }],
      ['TLS, another CA', { KAFKA_BROKERS: security.ssl, KAFKA_SSL_CA: otherCa }],
    ];
    let ok = 0;
    for (const [what, env] of runs) {
      const cwd = await secureDir();
      const r = keep(what, await runCli(['run', 'secure.yaml', '-p', `topic=${unique('secure-untrusted')}`, '-p', 'group=g', '--yes'], { cwd, env }));
      await keepFiles(what, cwd);
      expect(r.code, `${what}\n${r.stdout}\n${r.stderr}`).toBe(1);
      expect(r.stdout + r.stderr).toContain("the broker's certificate is not trusted: set KAFKA_SSL_CA");
      expect(r.stdout + r.stderr).not.toMatch(STACK_TRACE);
      ok += 1;
    }
    const cwd = await secureDir();
    const missing = keep('missing CA', await runCli(['run', 'secure.yaml', '-p', 'topic=x', '-p', 'group=g', '--yes'], { cwd, env: { KAFKA_BROKERS: security.ssl, KAFKA_SSL_CA: 'no-such-ca.pem', ...SCRAM('scram-sha-256') } }));
    const notPem = keep('CA not PEM', await runCli(['run', 'secure.yaml', '-p', 'topic=x', '-p', 'group=g', '--yes'], { cwd, env: { KAFKA_BROKERS: security.ssl, KAFKA_SSL_CA: 'secure.yaml' } }));
    if (missing.code === 2) ok += 1;
    if (notPem.code === 2) ok += 1;
    refused += ok;
    report(ctx, 'kafka TLS + SASL/SCRAM', { 'refused as expected': ok });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: KAFKA_SSL_CA: cannot read the CA file no-such-ca\.pem: ENOENT$/m);
    expect(missing.stderr).not.toMatch(STACK_TRACE);
    expect(notPem.code).toBe(2);
    expect(notPem.stderr).toContain('KAFKA_SSL_CA: secure.yaml holds no PEM certificate');
    // Bad input stops before any run starts: no state written.
    expect([...(await snapshotFiles(cwd)).keys()].filter((f) => f.startsWith('.migrate'))).toEqual([]);
  });

  it('the password appears in no output and no file', async (ctx) => {
    // Runs after the others (vitest runs a file's tests in order): everything they kept, plus the
    // state records the SCRAM-SHA-512 run wrote to its Kafka run store.
    const texts = [...outputs];
    const admin = plain.admin();
    await admin.connect();
    const stores = (await admin.listTopics()).filter((t) => t.startsWith('secure-runs-'));
    await admin.disconnect();
    for (const topic of stores) texts.push({ what: `state topic ${topic}`, text: (await readAll(topic)).join('\n') });
    const leaks = texts.filter((o) => o.text.includes(PASSWORD) || o.text.includes(WRONG_PASSWORD)).map((o) => o.what);
    report(ctx, 'kafka TLS + SASL/SCRAM', { 'outputs scanned': texts.length, 'password leaks': leaks.length });
    // The scan covered what it claims: the runs above happened, and a store topic held states.
    expect(completed + refused).toBeGreaterThanOrEqual(8);
    expect(stores.length).toBe(1);
    expect(texts.find((t) => t.what.startsWith('state topic'))?.text).toContain('"status":"completed"');
    expect(leaks).toEqual([]);
  });
});

/** Every record value of a topic, read on the PLAINTEXT listener up to the end offsets of now. */
async function readAll(topic: string): Promise<string[]> {
  const admin = plain.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const want = ends.filter((e) => Number(e.high) > Number(e.low));
  const values: string[] = [];
  if (!want.length) return values;
  const consumer = plain.consumer({ groupId: unique('secure-read') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const reached = new Set<number>();
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      if (message.value) values.push(message.value.toString('utf8'));
      const end = want.find((e) => e.partition === partition);
      if (end && Number(message.offset) + 1 >= Number(end.high)) reached.add(partition);
    },
  });
  await eventually(async () => reached.size >= want.length, 30_000, 50);
  await consumer.disconnect();
  return values;
}
