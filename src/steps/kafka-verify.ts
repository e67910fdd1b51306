import { z } from 'zod';
import { consumerLag, type KafkaCluster, type KafkaRecord, type TopicReader } from '../adapters/kafka.js';
import { HttpUnreachableError, httpRequest } from '../adapters/http.js';
import { TransientError, UsageError } from '../errors.js';
import type { SchemaIssue } from '../schema/validate.js';
import { parseBytes } from '../util/bytes.js';
import { parsePointer } from '../util/json.js';
import { DEFAULT_SEEN_MEMORY, MAX_SEEN_PARTITIONS, SeenIds, type Place, type SeenDuplicate } from '../util/seen-ids.js';
import { durationSchema } from '../util/duration-schema.js';
import { formatDuration } from '../util/time.js';
import { checkWorkers, CheckPool } from '../verify/check-pool.js';
import { fetchOperations, missingOperations } from '../verify/completeness.js';
import {
  checkChunk,
  checkRecord,
  compileRules,
  describeOperation,
  eventIdOf,
  operationPointer,
  operationText,
  operationValues,
  type CheckedRecords,
  type EventRulesSetup,
  type OperationPointer,
} from '../verify/event-checks.js';
import { defineStep, type StepContext } from './contract.js';

/** A list in YAML, or the same list as one comma-separated string (what a template gives). */
const listOf = <T extends z.ZodType>(item: T) => z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(item).min(1));

const params = z
  .object({
    topic: z.string().min(1),
    /** The registered schema the events must satisfy. */
    event: z.string().min(1),
    /** The version whose schema every event must satisfy (whatever its event_version says); optional with `versions`. */
    version: z.coerce.number().int().min(0).optional(),
    /** The versions allowed in the events read: each event is checked against the schema of its own event_version, any other version fails. */
    versions: listOf(z.coerce.number().int().min(0)).optional(),
    /** JSON Pointers into the event whose values name one business operation: the same operation under two event_ids fails. */
    operationKey: listOf(z.string().refine((s) => !!parsePointer(s)?.length, 'a JSON Pointer into the event, e.g. /payload/exercise_id')).optional(),
    /** The source's list of the operations it performed: each needs exactly one event. */
    completeness: z
      .object({
        /** GET <url>?from=<ISO>&to=<ISO> -> {"operations":[{"key":...,"at":"..."}]} */
        url: z.string().regex(/^https?:\/\//, 'a http(s) URL'),
        /** Sent as Authorization: Bearer (pass a secret param). */
        token: z.string().optional(),
        /** Operations this recent are not judged yet: their events may still be on the way. */
        grace: durationSchema.default(10_000),
      })
      .strict()
      .optional(),
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
  .refine((p) => p.kind !== 'form' || p.parity, { message: 'kind form needs parity.url: the sync endpoint to compare the replica with', path: ['parity'] })
  .refine((p) => p.version !== undefined || p.versions, { message: 'version is required (or versions: the versions allowed)', path: ['version'] })
  .refine((p) => !p.completeness || p.operationKey, { message: 'completeness needs operationKey: the pointers that match an event with an operation', path: ['completeness'] });

type Params = z.infer<typeof params>;

interface Sample {
  key: string;
  payload: unknown;
  where: string;
}

interface VerifyMemory {
  started?: boolean;
  count: number;
  /** event_id -> where it was first seen, to name both offsets of a duplicate (compact, spilling to disk past its budget: see SeenIds) */
  ids: SeenIds;
  /** With an operationKey: operation -> where it was first seen, in the same kind of table. */
  ops?: SeenIds;
  /** How many of each table's merge-found duplicates were re-read and found to be hash collisions. */
  cleared: { ids: number; ops: number };
  operationKey?: OperationPointer[];
  /** When reading began: the completeness window starts here. */
  startedAt: number;
  /** Completeness: when everything else was first enough. */
  enoughAt?: number;
  /** Completeness: the time and end offsets to read up to before the source's operations until then are judged. */
  mark?: { at: number; offsets: Record<number, number> };
  failure?: Error;
  pending: Sample[];
  compared: Set<string>;
  reader?: TopicReader;
  checks?: CheckPool;
}

function where(r: Pick<KafkaRecord, 'partition' | 'offset'>): string {
  return `partition ${r.partition} offset ${r.offset}`;
}

/** "ExerciseCompleted v0", or with `versions` "ExerciseCompleted v0/v1": what the events must be. */
function eventLabel(p: Params): string {
  return `${p.event} ${(p.versions ?? [p.version]).map((v) => `v${v}`).join('/')}`;
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
  describe: (given) => {
    const p = forKind(given);
    return (
      `at least ${p.minEvents} new ${eventLabel(p)} events on ${p.topic}, valid, no duplicates` +
      (p.operationKey ? `, no operation (${p.operationKey.join(', ')}) twice` : '') +
      (p.completeness ? ', an event for each operation the source lists' : '') +
      (p.group ? `, lag of ${p.group} <= ${p.maxLag}` : '') +
      (p.kind === 'form' ? ', parity with the sync endpoint' : '')
    );
  },

  async check(given, ctx) {
    const p = forKind(given);
    const mem = ctx.memory as unknown as VerifyMemory;
    if (!mem.started) await start(p, ctx, mem);
    if (mem.failure) throw mem.failure;
    await confirmDuplicates(p, ctx, mem);
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
      `${mem.count} new events (need ${p.minEvents}), all valid, no duplicate event_id` + (mem.ops ? `, no operation twice` : ''),
      ...(lag !== undefined ? [`lag of ${p.group} ${lag} (bound ${p.maxLag})`] : []),
      ...(paritySample ? [`parity ${mem.compared.size}/${paritySample} keys`] : []),
    ];
    const spills = mem.ids.spills + (mem.ops?.spills ?? 0);
    if (spills) facts.push(`seen ids spilled to disk ${spills} time${spills === 1 ? '' : 's'} (past MIGRATE_VERIFY_MEMORY)`);
    const enough = mem.count >= p.minEvents && (lag === undefined || lag <= p.maxLag) && mem.compared.size >= paritySample;
    const complete = enough && p.completeness ? await judgeCompleteness(p, ctx, mem) : undefined;
    if (complete) facts.push(complete.fact);
    const summary = facts.join('; ');
    if (enough && (!p.completeness || complete?.done)) {
      // No verdict while spilled entries are unchecked against each other: merge them all first.
      await mem.ids.settle();
      await mem.ops?.settle();
      await confirmDuplicates(p, ctx, mem);
      return {
        done: true,
        summary,
        outputs: { events: mem.count, ...(lag !== undefined ? { lag } : {}), ...(paritySample ? { parityKeys: mem.compared.size } : {}), ...(complete ? { operations: complete.operations } : {}) },
      };
    }
    return { done: false, summary, progress: { message: summary, metrics: { events: mem.count, ...(lag !== undefined ? { lag } : {}) } } };
  },
});

/**
 * `operationKey` and `completeness` are func checks, as `parity` is form's: for kind form (an event
 * is a record's latest state, and the same record recurs by design) they are not applied, so a
 * playbook can pass all three and let its `kind` param choose (event-upgrade does).
 */
function forKind(p: Params): Params {
  if (p.kind !== 'form') return p;
  const { operationKey: _key, completeness: _complete, ...rest } = p;
  return rest;
}

/** Marks where "since the step began" is, and starts reading from there. */
async function start(p: Params, ctx: StepContext, mem: VerifyMemory): Promise<void> {
  const memory = verifyMemory();
  const [kafka, schemas] = await Promise.all([ctx.kafka(), ctx.schemas()]);
  // Every allowed version's schema (with `versions`), else the one of `version`.
  const wanted = p.versions ?? [p.version as number];
  const found = await Promise.all(wanted.map((v) => schemas.get(p.event, v, { topic: p.topic })));
  const missing = wanted.find((_, i) => !found[i]);
  if (missing !== undefined) {
    const why = await schemas.whyMissing?.(p.event, missing, { topic: p.topic });
    throw new Error(`schema ${p.event} v${missing} is not registered ${why ? `(${why})` : `in ${schemas.description}`}; register it first (schema.register)`);
  }
  const registered = found.map((r) => r as NonNullable<typeof r>);
  const rules: EventRulesSetup = {
    ...(p.versions ? { versions: { event: p.event, schemas: registered.map((r, i) => ({ version: wanted[i] as number, schema: r.schema })) } } : { schema: registered[0]?.schema }),
    ...(p.operationKey ? { operationKey: p.operationKey } : {}),
  };
  const offsets = await kafka.topicOffsets(p.topic);
  if (offsets.length === 0) throw new Error(`topic ${p.topic} does not exist`);
  if (offsets.length > MAX_SEEN_PARTITIONS) throw new Error(`topic ${p.topic} has ${offsets.length} partitions; the duplicate checks name places in at most ${MAX_SEEN_PARTITIONS}`);
  // After the offsets: an operation performed from here on has its event after them.
  mem.startedAt = Date.now();
  mem.count = 0;
  const spillDir = process.env.MIGRATE_SPILL_DIR || undefined;
  // The budget is the step's: with operations, each table gets half. Closed last (defers run last first).
  const table = (): SeenIds => {
    const t = new SeenIds({ capacity: p.minEvents, memory: p.operationKey ? memory / 2 : memory, ...(spillDir ? { spillDir } : {}) });
    ctx.defer(async () => t.close());
    return t;
  };
  mem.ids = table();
  mem.cleared = { ids: 0, ops: 0 };
  if (p.operationKey) {
    mem.ops = table();
    mem.operationKey = p.operationKey.map(operationPointer);
  }
  mem.pending = [];
  mem.compared = new Set();
  // "Now" is where a read_committed reader stands now: the last stable offset, not the high
  // watermark. Records of a transaction open at this moment become readable only when it commits,
  // after the step began, so they count as new (and are checked for duplicates); from the high
  // watermark they would be skipped without a trace.
  const from = Object.fromEntries(offsets.map((o) => [o.partition, p.from === 'earliest' ? o.logStart : (o.lastStable ?? o.logEnd)]));
  const label = eventLabel(p);
  const samples = p.kind === 'form' ? (p.parity?.sample ?? 0) : 0;
  const absorbed = (o: CheckedRecords): void => absorb(o, p, mem, label);
  const workers = kafka.readTopicChunks ? checkWorkers() : 0;
  let reader: TopicReader;
  if (workers > 0 && kafka.readTopicChunks) {
    // JSON, schema and id hashing in worker threads; duplicates and counts here, in chunk order.
    const checks = await CheckPool.start(workers, { ...rules, samples }, absorbed);
    ctx.defer(() => checks.close());
    mem.checks = checks;
    reader = await kafka.readTopicChunks(p.topic, from, (chunk) => (mem.failure ? undefined : checks.submit(chunk)));
  } else {
    // The same checks on this thread, chunk by chunk where the reader hands chunks over.
    const compiled = await compileRules(rules);
    reader = kafka.readTopicChunks
      ? await kafka.readTopicChunks(p.topic, from, (chunk) => {
          if (!mem.failure) absorbed(checkChunk(chunk, compiled, samples));
        })
      : await kafka.readTopic(p.topic, from, (r) => {
          if (!mem.failure) absorbed(checkRecord(r, compiled, samples));
        });
  }
  ctx.defer(() => reader.close());
  mem.reader = reader;
  mem.started = true;
}

/** Takes in checked records of one partition: ids and operations, then the count, samples and failure. */
function absorb(o: CheckedRecords, p: Params, mem: VerifyMemory, label: string): void {
  if (mem.failure) return;
  try {
    absorbIds(o, mem);
  } catch (err) {
    // A spill that cannot be written (disk full, MIGRATE_SPILL_DIR not writable) ends the step.
    mem.failure = new Error(`cannot keep the seen event ids on disk: ${(err as Error).message} (MIGRATE_VERIFY_MEMORY, MIGRATE_SPILL_DIR)`);
  }
  if (mem.failure) return;
  mem.count += o.passed;
  for (const s of o.samples ?? []) sample(p, mem, s.key, s.payload, { partition: o.partition, offset: s.offset });
  const f = o.failure;
  if (f) {
    const r = { partition: o.partition, offset: f.offset };
    if (f.tombstone) mem.failure = new Error(`event at ${where(r)} is a tombstone (null value), not a ${label} event: a record without a value (on a compacted topic, the deletion of its key)`);
    else if (f.notJson) mem.failure = new Error(`event at ${where(r)} is not JSON`);
    else if (f.unexpected) mem.failure = new Error(`event at ${where(r)} is ${f.unexpected}; this step allows only ${label}`);
    else if (f.noOperation) mem.failure = new Error(`event at ${where(r)} has no value at ${f.noOperation} (operationKey): its operation cannot be told`);
    else if (f.issues?.length) mem.failure = invalid(r, f.version !== undefined ? `${p.event} v${f.version}` : label, f.issues, (f.more ?? 0) + f.issues.length);
    else mem.failure = new Error(`cannot read the events of ${p.topic} at ${where(r)}: ${f.error ?? 'unknown error'}`);
  }
}

/**
 * Ids and operations of one partition's checked records into their duplicate tables, in offset
 * order. An event's id goes in before its operation: the same event twice is a duplicate event_id,
 * not also a duplicate operation.
 */
function absorbIds(o: CheckedRecords, mem: VerifyMemory): void {
  const ops = mem.ops && o.ops;
  let j = 0;
  for (let i = 0; i <= o.offsets.length; i++) {
    const offset = i < o.offsets.length ? (o.offsets[i] as number) : Infinity;
    if (ops && mem.ops) {
      for (; j < ops.offsets.length && (ops.offsets[j] as number) < offset; j++) {
        const r = { partition: o.partition, offset: ops.offsets[j] as number };
        const seen = mem.ops.addHash(ops.hashes[2 * j] as number, ops.hashes[2 * j + 1] as number, r.partition, r.offset);
        if (seen) {
          mem.failure = duplicateOperation(o.eventAt(r.offset), mem.operationKey ?? [], seen, r);
          return;
        }
      }
    }
    if (offset === Infinity) break;
    const r = { partition: o.partition, offset };
    const seen = mem.ids.addHash(o.hashes[2 * i] as number, o.hashes[2 * i + 1] as number, r.partition, r.offset);
    if (seen) {
      mem.failure = duplicate(o.eventId(r.offset) ?? '(unreadable)', seen, r);
      return;
    }
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

/** The second event of one operation: names the operation, both places, and the second event's id and version. */
function duplicateOperation(event: unknown, key: OperationPointer[], seen: Pick<KafkaRecord, 'partition' | 'offset'>, r: Pick<KafkaRecord, 'partition' | 'offset'>): Error {
  const values = operationValues(event, key);
  const operation = Array.isArray(values) ? describeOperation(values, key) : '(unreadable)';
  const e = (event ?? {}) as { event_id?: unknown; event_version?: unknown };
  const second = [typeof e.event_id === 'string' ? `event_id ${e.event_id}` : undefined, typeof e.event_version === 'number' ? `v${e.event_version}` : undefined].filter(Boolean).join(', ');
  // As for a duplicate event_id: the two places in offset order, whichever partition was read first.
  const places = [
    { at: where(seen), text: where(seen) },
    { at: where(r), text: `${where(r)}${second ? ` (${second})` : ''}` },
  ].sort((x, y) => x.at.localeCompare(y.at, 'en', { numeric: true }));
  return new Error(`operation ${operation} published twice under different event_ids: at ${places.map((x) => x.text).join(' and at ')}; a consumer would apply it twice`);
}

/**
 * Completeness, once everything else is enough. It waits `grace` after that moment, then marks the
 * time and the topic's end offsets; once the reader has read up to the mark, it asks the source for
 * its operations from the step's start to the mark less the grace (so every operation performed
 * until the step had enough events is judged, and each had `grace` to get its event out before the
 * mark), and fails naming each one no event carried.
 */
async function judgeCompleteness(p: Params, ctx: StepContext, mem: VerifyMemory): Promise<{ done: boolean; fact: string; operations?: number }> {
  const c = p.completeness;
  if (!c || !mem.ops) return { done: true, fact: '' };
  mem.enoughAt ??= Date.now();
  if (Date.now() < mem.enoughAt + c.grace) return { done: false, fact: `completeness: giving the last operations ${formatDuration(c.grace)} (grace) to get their events out` };
  if (!mem.mark) {
    const kafka = await ctx.kafka();
    const at = Date.now();
    const offsets = Object.fromEntries((await kafka.topicOffsets(p.topic)).map((o) => [o.partition, o.lastStable ?? o.logEnd]));
    mem.mark = { at, offsets };
  }
  const mark = mem.mark;
  const position = mem.reader?.position() ?? {};
  const behind = Object.entries(mark.offsets).some(([partition, end]) => (position[Number(partition)] ?? 0) < end) || (mem.checks?.pending ?? 0) > 0;
  if (behind) return { done: false, fact: `completeness: reading up to the end offsets of ${new Date(mark.at).toISOString()}` };
  const to = mark.at - c.grace;
  const operations = await fetchOperations({ url: c.url, token: c.token, from: new Date(mem.startedAt), to: new Date(to), keyLength: mem.operationKey?.length ?? 1, signal: ctx.signal });
  const ops = mem.ops;
  const missing = await missingOperations(operations, (hashes) => ops.findAll(hashes));
  const window = `from ${new Date(mem.startedAt).toISOString()} to ${new Date(to).toISOString()}`;
  if (missing.length) {
    const named = missing.slice(0, 10).map((m) => `${describeOperation(m.values, mem.operationKey ?? [])}${m.at ? ` (at ${m.at})` : ''}`);
    throw new Error(
      `completeness: ${missing.length} of the ${operations.length} operations the source performed ${window} have no event on ${p.topic}: ${named.join('; ')}` +
        (missing.length > named.length ? `; and ${missing.length - named.length} more` : '') +
        '; a consumer never applies them',
    );
  }
  return { done: true, fact: `each of the ${operations.length} operations the source performed ${window} has one event`, operations: operations.length };
}

/** The step's budget for its duplicate tables: MIGRATE_VERIFY_MEMORY (e.g. 64MiB), else SeenIds' default. */
function verifyMemory(): number {
  const text = process.env.MIGRATE_VERIFY_MEMORY;
  if (!text) return DEFAULT_SEEN_MEMORY;
  const bytes = parseBytes(text);
  if (bytes === undefined || bytes < 1) throw new UsageError(`MIGRATE_VERIFY_MEMORY=${text} is not a size in bytes (e.g. 64MiB, 512MB, 1GiB)`);
  return bytes;
}

/**
 * The duplicates the tables found when they merged runs spilled to disk: each is re-read from the
 * topic (both events), so a 64-bit hash collision of two different ids is told from a duplicate,
 * and the message is the one a duplicate found in memory gets. Throws on the first real one.
 */
async function confirmDuplicates(p: Params, ctx: StepContext, mem: VerifyMemory): Promise<void> {
  const next = async (found: readonly SeenDuplicate[], done: number): Promise<{ seen: unknown; again: unknown; d: SeenDuplicate } | undefined> => {
    const d = found[done];
    if (!d) return undefined;
    const kafka = await ctx.kafka();
    const [seen, again] = await Promise.all([readEventAt(kafka, p.topic, d.seen, ctx.signal), readEventAt(kafka, p.topic, d.again, ctx.signal)]);
    return { seen, again, d };
  };
  for (let e = await next(mem.ids.duplicates, mem.cleared.ids); e; e = await next(mem.ids.duplicates, mem.cleared.ids)) {
    const [a, b] = [eventIdOf(e.seen), eventIdOf(e.again)];
    if (a === undefined || b === undefined || a === b) throw duplicate(b ?? a ?? '(unreadable)', e.d.seen, e.d.again);
    mem.cleared.ids += 1;
  }
  const key = mem.operationKey ?? [];
  for (let e = mem.ops && (await next(mem.ops.duplicates, mem.cleared.ops)); e && mem.ops; e = await next(mem.ops.duplicates, mem.cleared.ops)) {
    const [a, b] = [operationValues(e.seen, key), operationValues(e.again, key)];
    const same = !Array.isArray(a) || !Array.isArray(b) || operationText(a) === operationText(b);
    // The same event twice is a duplicate event_id (the ids table names it), not a duplicate operation.
    const sameEvent = eventIdOf(e.seen) !== undefined && eventIdOf(e.seen) === eventIdOf(e.again);
    if (same && !sameEvent) throw duplicateOperation(e.again, key, e.d.seen, e.d.again);
    mem.cleared.ops += 1;
  }
}

/** The event (parsed JSON) at one place of the topic; undefined when it cannot be read or parsed within 30 s. */
async function readEventAt(kafka: KafkaCluster, topic: string, at: Place, signal: AbortSignal | undefined): Promise<unknown> {
  let found: (value: unknown) => void = () => undefined;
  const event = new Promise<unknown>((resolve) => (found = resolve));
  const reader = await kafka.readTopic(topic, { [at.partition]: at.offset }, (r) => {
    if (r.partition !== at.partition || r.offset < at.offset) return;
    try {
      found(r.offset === at.offset && r.value ? JSON.parse(r.value.toString('utf8')) : undefined);
    } catch {
      found(undefined);
    }
  });
  const timer = setTimeout(() => found(undefined), 30_000);
  const onAbort = (): void => found(undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await event;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    await reader.close();
  }
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
