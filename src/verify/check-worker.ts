/**
 * Worker thread of CheckPool (check-pool.ts): compiles the rules (schemas, operationKey) once, then answers each chunk it
 * is sent with checkEvents (event-checks.ts), moving the typed arrays and the chunk's buffer back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ChunkJob, ChunkResult, WorkerSetup } from './check-pool.js';
import { checkEvents, chunkRecords, compileRules, type EventRules } from './event-checks.js';

const setup = workerData as WorkerSetup;
const port = parentPort;
if (!port) throw new Error('check-worker runs as a worker thread');

let rules: EventRules;
try {
  rules = await compileRules(setup);
  port.postMessage({ ready: true });
} catch (err) {
  port.postMessage({ ready: false, error: (err as Error).message });
}

port.on('message', (job: ChunkJob) => {
  const records = Buffer.from(job.records.buffer, job.records.byteOffset, job.records.byteLength);
  const checked = checkEvents(chunkRecords({ partition: job.partition, from: job.from, records, aborted: job.aborted }, setup.samples > 0), job.from, rules, setup.samples);
  const result: ChunkResult = { ...checked, seq: job.seq, records: job.records };
  const moved = [result.hashes.buffer as ArrayBuffer, result.offsets.buffer as ArrayBuffer, job.records.buffer as ArrayBuffer];
  if (result.ops) moved.push(result.ops.hashes.buffer as ArrayBuffer, result.ops.offsets.buffer as ArrayBuffer);
  port.postMessage(result, moved);
});
