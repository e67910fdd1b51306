/**
 * Worker thread of EventChecks (kafka-event-checks.ts): decodes the record chunks it is sent, parses
 * each value as JSON, validates it against the schema and hashes its event_id, and answers with
 * compact results: how many passed, the 64-bit id hashes and offsets (typed arrays, transferred),
 * the first failure, and a few key/payload samples when asked for them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compileSchema, type Validator } from '../schema/validate.js';
import { hashId } from '../util/seen-ids.js';
import type { KafkaRecord } from './kafka.js';
import { forEachRecord } from './kafka-records.js';
import type { ChunkJob, ChunkResult, WorkerSetup } from './kafka-event-checks.js';

const setup = workerData as WorkerSetup;
const port = parentPort;
if (!port) throw new Error('event-checks-worker runs as a worker thread');

let validate: Validator;
try {
  validate = await compileSchema(setup.schema);
  port.postMessage({ ready: true });
} catch (err) {
  port.postMessage({ ready: false, error: (err as Error).message });
}

let hashes = new Uint32Array(2 * 4096);
let offsets = new Float64Array(4096);

port.on('message', (job: ChunkJob) => {
  const records = Buffer.from(job.records.buffer, job.records.byteOffset, job.records.byteLength);
  let passed = 0;
  let ids = 0;
  let failure: ChunkResult['failure'];
  const samples: NonNullable<ChunkResult['samples']> = [];
  const onRecord = (r: KafkaRecord): void => {
    if (failure) return;
    if (r.value === null) {
      failure = { offset: r.offset, tombstone: true };
      return;
    }
    let event: unknown;
    try {
      event = JSON.parse(r.value.toString('utf8'));
    } catch {
      failure = { offset: r.offset, notJson: true };
      return;
    }
    const issues = validate(event);
    if (issues.length) {
      failure = { offset: r.offset, issues: issues.slice(0, 1), more: issues.length - 1 };
      return;
    }
    const id = (event as { event_id?: unknown }).event_id;
    if (typeof id === 'string') {
      if (ids === offsets.length) {
        const [h, o] = [hashes, offsets];
        hashes = new Uint32Array(h.length * 2);
        offsets = new Float64Array(o.length * 2);
        hashes.set(h);
        offsets.set(o);
      }
      hashId(id, hashes, 2 * ids);
      offsets[ids] = r.offset;
      ids += 1;
    }
    passed += 1;
    if (samples.length < setup.samples && r.key) {
      const key = r.key.toString('utf8');
      if (!samples.some((s) => s.key === key)) samples.push({ key, payload: (event as { payload?: unknown }).payload, offset: r.offset });
    }
  };
  try {
    forEachRecord(job.partition, records, job.from, job.aborted, onRecord);
  } catch (err) {
    failure = { offset: job.from, error: (err as Error).message };
  }
  const result: ChunkResult = { seq: job.seq, passed, hashes: hashes.slice(0, 2 * ids), offsets: offsets.slice(0, ids), failure, records: job.records, ...(samples.length ? { samples } : {}) };
  port.postMessage(result, [result.hashes.buffer as ArrayBuffer, result.offsets.buffer as ArrayBuffer, job.records.buffer as ArrayBuffer]);
});
