import { z } from 'zod';
import { consumerLag, type KafkaRecord, type TopicReader } from '../adapters/kafka.js';
import { HttpUnreachableError, httpRequest } from '../adapters/http.js';
import { TransientError } from '../errors.js';
import { compileSchema, type SchemaIssue } from '../schema/validate.js';
import { SeenIds } from '../util/seen-ids.js';
import { checkWorkers, CheckPool } from '../verify/check-pool.js';
import { checkChunk, checkRecord, type CheckedRecords } from '../verify/event-checks.js';
import { defineStep, type StepContext } from './contract.js';

const params = z
  .object({
    topic: z.string().min(1),
    /** The registered schema the events must satisfy. */
    event: z.string().min(1),
    version: z.coerce.number().int().min(0),
    /** At least this many new events since the step began. */
    minEvents: z.coerce.number().int().min(1).default(10),
    /** now: events produced since the step began (default); earliest: everything the topic retains (a backfill). */
    from: z.enum(['now', 'earliest']).default('now'),
    /** A consumer group whose lag on the topic must stay at or under maxLag. */
    group: z.string().min(1).optional(),
    maxLag: z.coerce.number().int().min(0).default(1000),
    /** form: data replication, checked for parity with the sync endpoint; func: business events (parity is not checked). */
    kind: z.enum(['form', 'func']).default('func'),
    parity: z
      .object({
        /** The sync endpoint of one record; {key} is replaced by the event's key. */
        url: z.string().regex(/^https?:\/\/.*\{key\}/, 'a http(s) URL with {key} where the record key goes'),
        /** How many distinct keys to compare. */
        sample: z.coerce.number().int().min(1).default(5),
        /** Payload fields to compare (default: every field the endpoint returns). */
        fields: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((p) => p.kind !== 'form' || p.parity, { message: 'kind form needs parity.url: the sync endpoint to compare the replica with', path: ['parity'] });

type Params = z.infer<typeof params>;

interface Sample {
  key: string;
  payload: unknown;
  where: string;
}

interface VerifyMemory {
  started?: boolean;
  count: number;
  /** event_id -> where it was first seen, to name both offsets of a duplicate (compact: see SeenIds) */
  ids: SeenIds;
  failure?: Error;
  pending: Sample[];
  compared: Set<string>;
  reader?: TopicReader;
  checks?: CheckPool;
}

function where(r: Pick<KafkaRecord, 'partition' | 'offset'>): string {
  return `partition ${r.partition} offset ${r.offset}`;
}

/**
 * kafka.verify: events really flow. Reads the events produced since the step began: at least N,
 * each valid against the registered schema, no duplicate event_id (a duplicate is how a customer
 * gets charged twice), the consumer group's lag bounded; for form, the replica's payload equals
 * what the sync endpoint returns for a sample of keys.
 */
export const kafkaVerifyStep = defineStep({
  type: 'kafka.verify',
  needs: ['kafka', 'schemas'],
  params,
  timeoutMs: 5 * 60_000,
  intervalMs: 1000,
  plan: { judgedOverTime: { look: false, why: 'it counts the events produced after it starts, so only a run waiting on it can judge it' } },
  describe: (p) =>
    `at least ${p.minEvents} new ${p.event} v${p.version} events on ${p.topic}, valid, no duplicates` +
    (p.group ? `, lag of ${p.group} <= ${p.maxLag}` : '') +
    (p.kind === 'form' ? ', parity with the sync endpoint' : ''),

  async check(p, ctx) {
    const mem = ctx.memory as unknown as VerifyMemory;
    if (!mem.started) await start(p, ctx, mem);
    if (mem.failure) throw mem.failure;
    const readFailure = mem.reader?.failure?.() ?? mem.checks?.failure;
    if (readFailure) throw readFailure;
    if (p.kind === 'form') await compareSamples(p, ctx, mem);

    let lag: number | undefined;
    if (p.group) {
      const kafka = await ctx.kafka();
      lag = consumerLag(await kafka.groupOffsets(p.group, p.topic)).reduce((s, l) => s + l.lag, 0);
    }
    const paritySample = p.kind === 'form' ? (p.parity?.sample ?? 0) : 0;
    const facts = [
      `${mem.count} new events (need ${p.minEvents}), all valid, no duplicate event_id`,
      ...(lag !== undefined ? [`lag of ${p.group} ${lag} (bound ${p.maxLag})`] : []),
      ...(paritySample ? [`parity ${mem.compared.size}/${paritySample} keys`] : []),
    ];
    const summary = facts.join('; ');
    const enough = mem.count >= p.minEvents && (lag === undefined || lag <= p.maxLag) && mem.compared.size >= paritySample;
    if (enough) {
      return { done: true, summary, outputs: { events: mem.count, ...(lag !== undefined ? { lag } : {}), ...(paritySample ? { parityKeys: mem.compared.size } : {}) } };
    }
    return { done: false, summary, progress: { message: summary, metrics: { events: mem.count, ...(lag !== undefined ? { lag } : {}) } } };
  },
});

/** Marks where "since the step began" is, and starts reading from there. */
async function start(p: Params, ctx: StepContext, mem: VerifyMemory): Promise<void> {
  const [kafka, schemas] = await Promise.all([ctx.kafka(), ctx.schemas()]);
  const registered = await schemas.get(p.event, p.version, { topic: p.topic });
  if (!registered) {
    const why = await schemas.whyMissing?.(p.event, p.version, { topic: p.topic });
    throw new Error(`schema ${p.event} v${p.version} is not registered ${why ? `(${why})` : `in ${schemas.description}`}; register it first (schema.register)`);
  }
  const offsets = await kafka.topicOffsets(p.topic);
  if (offsets.length === 0) throw new Error(`topic ${p.topic} does not exist`);
  mem.count = 0;
  mem.ids = new SeenIds(p.minEvents);
  mem.pending = [];
  mem.compared = new Set();
  // "Now" is where a read_committed reader stands now: the last stable offset, not the high
  // watermark. Records of a transaction open at this moment become readable only when it commits,
  // after the step began, so they count as new (and are checked for duplicates); from the high
  // watermark they would be skipped without a trace.
  const from = Object.fromEntries(offsets.map((o) => [o.partition, p.from === 'earliest' ? o.logStart : (o.lastStable ?? o.logEnd)]));
  const label = `${p.event} v${p.version}`;
  const samples = p.kind === 'form' ? (p.parity?.sample ?? 0) : 0;
  const absorbed = (o: CheckedRecords): void => absorb(o, p, mem, label);
  const workers = kafka.readTopicChunks ? checkWorkers() : 0;
  let reader: TopicReader;
  if (workers > 0 && kafka.readTopicChunks) {
    // JSON, schema and id hashing in worker threads; duplicates and counts here, in chunk order.
    const checks = await CheckPool.start(workers, { schema: registered.schema, samples }, absorbed);
    ctx.defer(() => checks.close());
    mem.checks = checks;
    reader = await kafka.readTopicChunks(p.topic, from, (chunk) => (mem.failure ? undefined : checks.submit(chunk)));
  } else {
    // The same checks on this thread, chunk by chunk where the reader hands chunks over.
    const validate = await compileSchema(registered.schema);
    reader = kafka.readTopicChunks
      ? await kafka.readTopicChunks(p.topic, from, (chunk) => {
          if (!mem.failure) absorbed(checkChunk(chunk, validate, samples));
        })
      : await kafka.readTopic(p.topic, from, (r) => {
          if (!mem.failure) absorbed(checkRecord(r, validate, samples));
        });
  }
  ctx.defer(() => reader.close());
  mem.reader = reader;
  mem.started = true;
}

/** Takes in checked records of one partition: ids into the duplicate table in offset order, then the count, samples and failure. */
function absorb(o: CheckedRecords, p: Params, mem: VerifyMemory, label: string): void {
  if (mem.failure) return;
  for (let i = 0; i < o.offsets.length; i++) {
    const r = { partition: o.partition, offset: o.offsets[i] as number };
    const seen = mem.ids.addHash(o.hashes[2 * i] as number, o.hashes[2 * i + 1] as number, r.partition, r.offset);
    if (seen) {
      mem.failure = duplicate(o.eventId(r.offset) ?? '(unreadable)', seen, r);
      return;
    }
  }
  mem.count += o.passed;
  for (const s of o.samples ?? []) sample(p, mem, s.key, s.payload, { partition: o.partition, offset: s.offset });
  const f = o.failure;
  if (f) {
    const r = { partition: o.partition, offset: f.offset };
    if (f.tombstone) mem.failure = new Error(`event at ${where(r)} is a tombstone (null value), not a ${label} event: a record without a value (on a compacted topic, the deletion of its key)`);
    else if (f.notJson) mem.failure = new Error(`event at ${where(r)} is not JSON`);
    else if (f.issues?.length) mem.failure = invalid(r, label, f.issues, (f.more ?? 0) + f.issues.length);
    else mem.failure = new Error(`cannot read the events of ${p.topic} at ${where(r)}: ${f.error ?? 'unknown error'}`);
  }
}

function invalid(r: Pick<KafkaRecord, 'partition' | 'offset'>, label: string, issues: SchemaIssue[], total: number): Error {
  const first = issues[0] as SchemaIssue;
  return new Error(`event at ${where(r)} fails the schema ${label} at ${first.path || '/'} (${first.schemaPath}): ${first.message}` + (total > 1 ? ` (and ${total - 1} more)` : ''));
}

function duplicate(id: string, seen: Pick<KafkaRecord, 'partition' | 'offset'>, r: Pick<KafkaRecord, 'partition' | 'offset'>): Error {
  // Partitions are read in parallel: name the two places in offset order, whichever came first.
  const [a, b] = [where(seen), where(r)].sort((x, y) => x.localeCompare(y, 'en', { numeric: true }));
  return new Error(`duplicate event_id ${id}: at ${a} and at ${b}; a consumer would apply it twice`);
}

/** Keeps a key's payload for the parity comparison, while fewer than `sample` keys are kept or compared. */
function sample(p: Params, mem: VerifyMemory, key: string, payload: unknown, r: Pick<KafkaRecord, 'partition' | 'offset'>): void {
  if (p.kind === 'form' && p.parity && mem.compared.size + mem.pending.length < p.parity.sample && !mem.pending.some((s) => s.key === key) && !mem.compared.has(key)) {
    mem.pending.push({ key, payload, where: where(r) });
  }
}

/** Compares sampled replicas with what the sync endpoint returns for the same key. */
async function compareSamples(p: Params, ctx: StepContext, mem: VerifyMemory): Promise<void> {
  const parity = p.parity;
  if (!parity) return;
  while (mem.pending.length) {
    const sample = mem.pending[0] as Sample;
    const url = parity.url.replace('{key}', encodeURIComponent(sample.key));
    let res;
    try {
      res = await httpRequest({ url, method: 'GET', timeoutMs: 5000, signal: ctx.signal });
    } catch (err) {
      if (err instanceof HttpUnreachableError) throw new TransientError(`parity: the sync endpoint ${url} is unreachable: ${err.message}`, { cause: err });
      throw err;
    }
    if (res.status !== 200) throw new Error(`parity: the sync endpoint ${url} answered ${res.status} for key ${sample.key}, whose event is at ${sample.where}`);
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(res.text) as Record<string, unknown>;
    } catch {
      throw new Error(`parity: the sync endpoint ${url} did not return JSON`);
    }
    const payload = (sample.payload ?? {}) as Record<string, unknown>;
    for (const field of parity.fields ?? Object.keys(record)) {
      const a = JSON.stringify(payload[field]);
      const b = JSON.stringify(record[field]);
      if (a !== b) {
        throw new Error(`parity: key ${sample.key} field ${field}: the event at ${sample.where} has ${a ?? 'nothing'}, the sync endpoint returns ${b ?? 'nothing'}`);
      }
    }
    mem.compared.add(sample.key);
    mem.pending.shift();
  }
}
