/**
 * kafka.verify's per-event checks (checkEvents, event-checks.ts) in worker threads, fed with the
 * undecoded record chunks of readTopicChunks. One thread checking a million small events spends
 * most of its time in JSON.parse; workers take that off the thread that reads from Kafka. Results
 * come back compact (counts, 64-bit id hashes and offsets in transferred typed arrays, the first
 * failure) and are handed over in the order the chunks were submitted, so within a partition they
 * are in offset order: the first failure and the first sighting of an id are the same as when
 * checking one record after another.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { RecordChunk } from '../adapters/kafka.js';
import { packageRoot } from '../package-root.js';
import { chunkRecords, rereaders, type CheckedRecords, type CheckResult, type EventRulesSetup } from './event-checks.js';

/** What each worker is started with: the rules to compile (the schema or schemas, the operationKey). */
export interface WorkerSetup extends EventRulesSetup {
  /** Distinct keys to sample per chunk, with their payloads (0: none). */
  samples: number;
}

/** One chunk sent to a worker; `records` is a buffer of the pool's own, transferred. */
export interface ChunkJob {
  seq: number;
  partition: number;
  from: number;
  records: Uint8Array;
  aborted: RecordChunk['aborted'];
}

/** A worker's answer to a ChunkJob. */
export interface ChunkResult extends CheckResult {
  seq: number;
  /** The job's records, handed back (transferred) for reuse. */
  records: Uint8Array;
}

/** Chunks a worker may hold before submit() makes the reader wait. */
const PER_WORKER = 4;

/**
 * Worker threads to use: MIGRATE_VERIFY_WORKERS when set (0: check on the reading thread), else
 * one when there are two cores or more: the reading thread fetches and counts while the worker
 * parses. On a quiet 2-core machine (bench/RESULTS.md, a million events) two workers checked
 * 513k ev/s against one worker's 436k, at 210 MB peak RSS against 188 MB (a smaller backlog per
 * worker cut neither the memory nor, much, the speed).
 */
export function checkWorkers(): number {
  const set = process.env.MIGRATE_VERIFY_WORKERS;
  if (set !== undefined && /^\d+$/.test(set)) return Math.min(8, Number(set));
  return availableParallelism() >= 2 ? 1 : 0;
}

/**
 * A worker's young generation, capped: its garbage is short-lived strings and views, which a small
 * nursery collects as cheaply, and V8's default lets it grow to tens of MB of resident memory
 * (a million events: 6 MB less peak RSS, the same CPU time).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 6 };

interface Slot {
  worker: Worker;
  busy: number;
}

/** Worker threads checking chunks, answering in submission order. */
export class CheckPool {
  private seq = 0;
  private nextOut = 0;
  private readonly done = new Map<number, ChunkResult>();
  /** What was sent, kept until its result is handed over. */
  private readonly sent = new Map<number, { partition: number; from: number; aborted: RecordChunk['aborted'] }>();
  /** Buffers the workers handed back, reused for the next chunks (no allocation, no page faults). */
  private readonly free: ArrayBuffer[] = [];
  private waiting: (() => void) | undefined;
  private crashed: Error | undefined;

  private constructor(
    private readonly slots: Slot[],
    private readonly onChecked: (o: CheckedRecords) => void,
  ) {
    for (const slot of slots) {
      slot.worker.on('message', (r: ChunkResult) => {
        slot.busy -= 1;
        this.done.set(r.seq, r);
        this.drain();
      });
      slot.worker.on('error', (err) => this.fail(err));
      slot.worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`an event-check worker exited with code ${code}`));
      });
    }
  }

  /** Starts `workers` threads, each compiling the rules; rejects when a schema does not compile. */
  static async start(workers: number, setup: WorkerSetup, onChecked: (o: CheckedRecords) => void): Promise<CheckPool> {
    // The worker is tsc's module even when the CLI runs from the bundle: a thread loads its own copy of what it imports anyway.
    const slots = Array.from({ length: workers }, () => ({ worker: new Worker(new URL('dist/verify/check-worker.js', packageRoot), { workerData: setup, resourceLimits: WORKER_LIMITS }), busy: 0 }));
    try {
      await Promise.all(
        slots.map(
          (s) =>
            new Promise<void>((resolve, reject) => {
              s.worker.once('message', (m: { ready: boolean; error?: string }) => (m.ready ? resolve() : reject(new Error(m.error))));
              s.worker.once('error', reject);
            }),
        ),
      );
    } catch (err) {
      await Promise.all(slots.map((s) => s.worker.terminate()));
      throw err;
    }
    return new CheckPool(slots, onChecked);
  }

  /** Chunks submitted whose results were not handed over yet. */
  get pending(): number {
    return this.sent.size;
  }

  /** Why checking stopped (a worker crashed), if it did. */
  get failure(): Error | undefined {
    return this.crashed;
  }

  /** Sends a chunk to the least busy worker; the promise (when there is one) resolves once there is room for more. */
  submit(chunk: RecordChunk): Promise<void> | undefined {
    if (this.crashed) return undefined;
    const seq = this.seq++;
    // The fetched buffer also holds other partitions' data (and kafkajs's next bytes): copy this
    // part into a buffer of our own and move it to the worker, which moves it back with the result.
    const length = chunk.records.length;
    const i = this.free.findIndex((b) => b.byteLength >= length);
    const buffer = i >= 0 ? (this.free.splice(i, 1)[0] as ArrayBuffer) : new ArrayBuffer(Math.max(length, 1.25 * 2 ** 20));
    const records = new Uint8Array(buffer, 0, length);
    records.set(chunk.records);
    this.sent.set(seq, { partition: chunk.partition, from: chunk.from, aborted: chunk.aborted });
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    slot.busy += 1;
    const job: ChunkJob = { seq, partition: chunk.partition, from: chunk.from, records, aborted: chunk.aborted };
    slot.worker.postMessage(job, [buffer]);
    if (this.slots.every((s) => s.busy >= PER_WORKER)) return new Promise((resolve) => (this.waiting = resolve));
    return undefined;
  }

  async close(): Promise<void> {
    this.waiting?.();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private drain(): void {
    for (let r = this.done.get(this.nextOut); r; r = this.done.get(this.nextOut)) {
      this.done.delete(this.nextOut);
      const sent = this.sent.get(this.nextOut);
      this.sent.delete(this.nextOut);
      this.nextOut += 1;
      if (!sent) continue;
      const records = chunkRecords({ ...sent, records: Buffer.from(r.records.buffer, r.records.byteOffset, r.records.byteLength) });
      this.onChecked({ ...r, partition: sent.partition, ...rereaders(records) });
      if (this.free.length < this.slots.length * PER_WORKER) this.free.push(r.records.buffer as ArrayBuffer);
    }
    if (this.waiting && this.slots.some((s) => s.busy < PER_WORKER)) {
      const go = this.waiting;
      this.waiting = undefined;
      go();
    }
  }

  private fail(err: Error): void {
    this.crashed ??= err;
    this.waiting?.();
    this.waiting = undefined;
  }
}
