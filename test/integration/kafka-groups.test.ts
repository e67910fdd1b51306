// kafka.consumers, kafka.drain and kafka.retire against the consumers teams run, in both group
// protocols: Kafka's own Java consumer (ConsoleConsumer) and librdkafka (confluent-kafka), each with
// group.protocol=consumer (KIP-848) and =classic. Kafka 4.1 answers kafkajs's classic DescribeGroups
// for a consumer-protocol group with "Dead, no members"; these tests prove migrate sees those groups.
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { connectKafka } from '../../src/adapters/kafka-connect.js';
import {
  decodeConsumerGroupDescribeResponse,
  decodeListGroupsResponse,
  describeConsumerGroups,
  encodeConsumerGroupDescribeRequest,
  encodeListGroupsRequest,
  listGroups,
} from '../../src/adapters/kafka-groups.js';
import { kafkajsInternals, rawResponse } from '../../src/adapters/kafka-internals.js';
import { events, eventually, runCli, startCli, unique, workdir } from '../support/cli.js';
import { brokerAtLeast, kafkaBrokers } from '../support/kafka.js';
import { groupIds, testKafka, topicWithBacklog } from '../support/kafka-client.js';
import {
  runKafkaTool,
  startJavaConsumer,
  startKafkaTool,
  startLibrdkafkaConsumer,
  type ClientProcess,
  type ConsumerOptions,
  type GroupProtocol,
} from '../support/real-clients.js';

const playbook = (uses: string, withBlock: string, timeout: string) => `name: ${uses.replace('.', '-')}
params:
  topic: { required: true }
  group: { required: true }
steps:
  - id: step
    uses: ${uses}
    with: ${withBlock}
    interval: 250ms
    timeout: ${timeout}
`;
const files = {
  'drain.yaml': playbook('kafka.drain', '{ topic: "${{ params.topic }}", group: "${{ params.group }}", samples: 3 }', '90s'),
  'consumers.yaml': playbook('kafka.consumers', '{ topic: "${{ params.topic }}", group: "${{ params.group }}" }', '60s'),
  'retire.yaml': playbook('kafka.retire', '{ group: "${{ params.group }}" }', '60s'),
};

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Resolves once the CLI child has printed an NDJSON event matching `pattern`; rejects if it ends first. */
function printed(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      const line = out.split('\n').find((l) => pattern.test(l));
      if (line) {
        child.stdout?.off('data', onData);
        resolve(line);
      }
    };
    child.stdout?.on('data', onData);
    child.once('close', () => reject(new Error(`migrate ended before printing ${pattern}:\n${out}`)));
  });
}


const clients: { client: string; start: (o: ConsumerOptions) => Promise<ClientProcess>; clientId: (p: GroupProtocol) => string }[] = [
  { client: "Kafka's Java consumer", start: startJavaConsumer, clientId: (p) => `java-${p}` },
  { client: 'librdkafka (confluent-kafka)', start: startLibrdkafkaConsumer, clientId: (p) => `librdkafka-${p}` },
];
const cases = clients.flatMap((c) => (['consumer', 'classic'] as const).map((protocol) => ({ ...c, protocol })));

describe.each(cases)('$client, group.protocol=$protocol', ({ start, clientId, protocol }) => {
  // KIP-848 consumer groups are GA from Kafka 4.0 (a preview, off by default, in 3.9): not claimed before.
  it.skipIf(protocol === 'consumer' && !brokerAtLeast('4.0'))('drain waits with lag, then passes; retire waits while it runs; consumers passes; retire deletes the group once it stops', async () => {
    const topic = unique(`groups-${protocol}`);
    const group = unique('g');
    await topicWithBacklog(topic, [30, 20, 10]);
    const cwd = await workdir(files);
    const args = (file: string) => ['run', file, '-p', `topic=${topic}`, '-p', `group=${group}`, '--json'];

    // kafka.drain sees the whole backlog before the consumer starts.
    const drain = startCli(args('drain.yaml'), { cwd });
    cleanups.push(async () => drain.kill('SIGKILL'));
    const firstCheck = JSON.parse(await printed(drain, /"type":"step.checked"/)) as { done: boolean; summary: string };
    expect(firstCheck.done).toBe(false);
    expect(firstCheck.summary).toMatch(/^lag 60: /);

    const consumer = await start({ brokers: kafkaBrokers(), group, topic, protocol });
    cleanups.push(() => consumer.stop(2_000));
    const drained = await drain.result;
    expect(drained.code, drained.stdout + drained.stderr).toBe(0);
    expect(events(drained.stdout).find((e) => e.type === 'step.done')).toMatchObject({ summary: expect.stringContaining('lag 0 on 3 partitions') });

    // While it runs, kafka.retire waits, naming the member (it does not take the group for gone)...
    const retire = startCli(args('retire.yaml'), { cwd });
    cleanups.push(async () => retire.kill('SIGKILL'));
    const waiting = JSON.parse(await printed(retire, /"type":"step.checked"/)) as { done: boolean; summary: string };
    expect(waiting).toMatchObject({ done: false, summary: expect.stringContaining(`group ${group} still has 1 member (${clientId(protocol)}@`) });

    // ...and kafka.consumers sees the group up, every partition owned.
    const up = await runCli(args('consumers.yaml'), { cwd });
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(events(up.stdout).find((e) => e.type === 'step.done')).toMatchObject({ summary: expect.stringMatching(/is Stable: 1 member owns all 3 partitions/) });

    // Once the consumer stops, kafka.retire deletes the group.
    expect(await groupIds()).toContain(group);
    await consumer.stop();
    const retired = await retire.result;
    expect(retired.code, retired.stdout + retired.stderr).toBe(0);
    expect(events(retired.stdout).find((e) => e.type === 'step.applied')).toMatchObject({ outputs: { deleted: true } });
    expect(await groupIds()).not.toContain(group);
  });
});

describe('the group requests kafkajs lacks, against Kafka 4.1 itself', () => {
  it.skipIf(!brokerAtLeast('4.0'))("ConsumerGroupDescribe decodes two members of two clients as Kafka's consumer-groups tool reports them; ListGroups gives each group's type", async () => {
    const topic = unique('describe');
    const group = unique('g');
    await topicWithBacklog(topic, [1, 1, 1, 1]);
    const o = { brokers: kafkaBrokers(), group, topic, protocol: 'consumer' as const };
    const java = await startJavaConsumer(o);
    cleanups.push(() => java.stop(2_000));
    const librdkafka = await startLibrdkafkaConsumer(o);
    cleanups.push(() => librdkafka.stop(2_000));

    const cluster = kafkajsInternals().createCluster(testKafka());
    await cluster.connect();
    cleanups.push(() => cluster.disconnect());
    const coordinator = await cluster.findGroupCoordinator({ groupId: group });
    // Wait until both members own what the group's assignor gave them (4 partitions between them).
    const described = await eventually(async () => {
      const [g] = (await describeConsumerGroups(coordinator, [group])) ?? [];
      const owned = g?.members.flatMap((m) => m.assignment[topic] ?? []) ?? [];
      return g?.state === 'Stable' && g.members.length === 2 && owned.length === 4 ? g : undefined;
    }, 60_000, 200);
    expect(described).toMatchObject({ errorCode: 0, errorMessage: null, groupId: group, assignorName: 'uniform' });
    expect(described.groupEpoch).toBeGreaterThan(0);
    expect(described.members.map((m) => m.clientId).sort()).toEqual(['java-consumer', 'librdkafka-consumer']);
    for (const m of described.members) {
      expect(m.subscribedTopicNames).toEqual([topic]);
      expect(m.assignment).toEqual(m.targetAssignment);
      expect(m.memberType).toBe(1); // v1: a consumer-protocol member
    }

    // Kafka's own tool, asked the same question, sees the same members with the same partitions.
    const tool = await runKafkaTool('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', [
      '--bootstrap-server', kafkaBrokers().join(','), '--describe', '--group', group, '--members', '--verbose',
    ]);
    for (const m of described.members) {
      const row = tool.split('\n').find((l) => l.includes(m.memberId));
      expect(row, tool).toBeDefined();
      expect(row).toContain(m.clientId);
      const partitions = (m.assignment[topic] ?? []).join(',');
      expect(row).toContain(`${topic}:${partitions}`);
    }

    // A classic group (kafkajs's consumer) and a group that does not exist: ConsumerGroupDescribe
    // knows neither (GROUP_ID_NOT_FOUND); ListGroups tells the classic one's type.
    const classicGroup = unique('classic');
    const classic = testKafka().consumer({ groupId: classicGroup });
    await classic.connect();
    cleanups.push(() => classic.disconnect());
    await classic.subscribe({ topic, fromBeginning: true });
    await classic.run({ eachMessage: async () => undefined });
    const notConsumer = (await describeConsumerGroups(coordinator, [classicGroup, 'no-such-group'])) ?? [];
    expect(notConsumer.map((g) => [g.groupId, g.errorCode, g.members.length])).toEqual([
      [classicGroup, 69, 0],
      ['no-such-group', 69, 0],
    ]);

    const listed = await eventually(async () => {
      const all = (await listGroups(coordinator)) ?? [];
      return all.some((g) => g.groupId === group) && all.some((g) => g.groupId === classicGroup && g.state === 'Stable') ? all : undefined;
    });
    expect(listed.find((g) => g.groupId === group)).toMatchObject({ protocolType: 'consumer', state: 'Stable', type: 'consumer' });
    expect(listed.find((g) => g.groupId === classicGroup)).toMatchObject({ protocolType: 'consumer', state: 'Stable', type: 'classic' });
    expect(listed.some((g) => g.groupId === 'no-such-group')).toBe(false);
    for (const g of listed) expect(['classic', 'consumer', 'share', 'streams']).toContain(g.type);

    // The decoders fail loudly on bytes that do not fit the layout: the broker's own answers, cut
    // short by one byte or with one byte too many.
    const raw = async (apiKey: number, apiName: string, apiVersion: number, body: Buffer): Promise<Buffer> =>
      (await coordinator.connectionPool.send({
        request: { apiKey, apiName, apiVersion, encode: async () => kafkajsInternals().encoder().writeBuffer(body) },
        response: rawResponse,
      })) as Buffer;
    const describeVersion = Math.min(1, coordinator.versions?.[69]?.maxVersion ?? 0);
    const answers = [
      { decode: (b: Buffer) => decodeConsumerGroupDescribeResponse(describeVersion, b), payload: await raw(69, 'ConsumerGroupDescribe', describeVersion, encodeConsumerGroupDescribeRequest([group])) },
      { decode: (b: Buffer) => decodeListGroupsResponse(5, b), payload: await raw(16, 'ListGroups', 5, encodeListGroupsRequest()) },
    ];
    for (const { decode, payload } of answers) {
      expect(() => decode(payload)).not.toThrow();
      expect(() => decode(payload.subarray(0, payload.length - 1))).toThrow(/needs \d+ bytes|an array of/);
      expect(() => decode(Buffer.concat([payload, Buffer.from([0])]))).toThrow(/1 bytes left over/);
    }

    // Through the adapter: the consumer-protocol group with both members.
    const kafka = await connectKafka({ brokers: kafkaBrokers(), clientId: 'groups-test' });
    cleanups.push(() => kafka.close());
    const viaAdapter = await kafka.describeGroup(group);
    expect(viaAdapter).toMatchObject({ type: 'consumer', state: 'Stable' });
    expect(viaAdapter.members.flatMap((m) => m.assignment[topic] ?? []).sort()).toEqual([0, 1, 2, 3]);
  });
});

describe('a group that does not exist is not a drained group', () => {
  it('kafka.drain of a misspelled group on an empty topic waits, and times out naming the group and the topic', async () => {
    const topic = unique('empty');
    const group = unique('misspelled');
    await topicWithBacklog(topic, [0, 0]);
    const cwd = await workdir({ 'drain.yaml': playbook('kafka.drain', '{ topic: "${{ params.topic }}", group: "${{ params.group }}", samples: 3 }', '2s') });
    const res = await runCli(['run', 'drain.yaml', '-p', `topic=${topic}`, '-p', `group=${group}`], { cwd });
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.stdout).toContain(`timed out after 2s: group ${group} has no members and has never committed an offset on ${topic}: is the group name right?`);
  });
});

describe('groups of a type the steps cannot judge', () => {
  it('a share group gets a clear error from kafka.consumers, never a verdict', async (ctx) => {
    const topic = unique('share');
    const group = unique('gs');
    await topicWithBacklog(topic, [0]);
    // Share groups are a preview in Kafka 4.1: the feature is off until upgraded (a broker without it says so).
    const enabled = await runKafkaTool('org.apache.kafka.tools.FeatureCommand', ['--bootstrap-server', kafkaBrokers().join(','), 'upgrade', '--feature', 'share.version=1']).catch(
      (err: Error) => err.message,
    );
    if (!/share\.version was upgraded to 1|already/.test(enabled)) ctx.skip(`this broker has no share groups: ${enabled.split('\n').slice(-2).join(' ')}`);
    const share = await startKafkaTool('org.apache.kafka.tools.consumer.ConsoleShareConsumer', ['--bootstrap-server', kafkaBrokers().join(','), '--topic', topic, '--group', group]);
    cleanups.push(() => share.stop(2_000));
    // Wait until the broker lists it, as a share group: the share consumer has joined.
    const cluster = kafkajsInternals().createCluster(testKafka());
    await cluster.connect();
    cleanups.push(() => cluster.disconnect());
    const coordinator = await cluster.findGroupCoordinator({ groupId: group });
    const listed = await eventually(async () => (await listGroups(coordinator))?.find((g) => g.groupId === group), 60_000, 200);
    expect(listed.type).toBe('share');
    const cwd = await workdir(files);
    const res = await runCli(['run', 'consumers.yaml', '-p', `topic=${topic}`, '-p', `group=${group}`], { cwd });
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).toContain(`group ${group} is a share group; kafka.consumers, kafka.drain and kafka.retire judge consumer groups (classic or consumer protocol) only`);
  });
});
