#!/usr/bin/env node
// The duplicate table of kafka.verify alone, without Kafka: ns per add (wall), CPU seconds, bytes
// per entry and peak RSS for N distinct hashes, then settle() (every spilled run compared). One size
// per process, so each peak RSS is its own. 100M (about 1.6 GB spilled, ~40 s) only when asked:
//   node bench/seen-ids.mjs [--sizes 1000000,10000000,100000000] [--memory 64MiB] [--spill-dir DIR]
// BENCH_SEEN_MODULE=path/to/seen-ids.js measures another build's SeenIds (e.g. main's, for A/B);
// bytes per entry is (peak RSS - RSS before the table) / entries (bounded: it falls as the size grows).
// Needs `npm run build`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({ options: { sizes: { type: 'string', default: '1000000,10000000' }, memory: { type: 'string' }, 'spill-dir': { type: 'string' }, one: { type: 'string' } } });

if (opts.one) {
  const n = Number(opts.one);
  const mod = await import(process.env.BENCH_SEEN_MODULE ?? new URL('../dist/util/seen-ids.js', import.meta.url).href);
  const { parseBytes } = await import(new URL('../dist/util/bytes.js', import.meta.url).href);
  const status = (field) => Number(readFileSync(`/proc/${process.pid}/status`, 'utf8').match(new RegExp(`${field}:\\s*(\\d+)`))[1]) * 1024;
  const base = status('VmRSS');
  const memory = opts.memory ? parseBytes(opts.memory) : undefined;
  // main's SeenIds takes a capacity only.
  const table = new mod.SeenIds(mod.DEFAULT_SEEN_MEMORY ? { capacity: n, ...(memory ? { memory } : {}), ...(opts['spill-dir'] ? { spillDir: opts['spill-dir'] } : {}) } : n);
  // Hashes as hashId() spreads them (xorshift: distinct, no string work in the timing).
  let x = 0x9e3779b9;
  let y = 0x7f4a7c15;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let dups = 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    y = (y + 0x6d2b79f5) | 0;
    if (table.addHash(x >>> 0, (y ^ i) >>> 0 || 1, i % 64, i)) dups++;
  }
  const t1 = process.hrtime.bigint();
  const settled = table.settle ? (await table.settle()).length : 0;
  const t2 = process.hrtime.bigint();
  const cpu = process.cpuUsage(cpu0);
  table.close?.();
  const rss = status('VmHWM');
  process.stdout.write(
    JSON.stringify({ n, nsPerAdd: Number(t1 - t0) / n, settleMs: Number(t2 - t1) / 1e6, cpuS: (cpu.user + cpu.system) / 1e6, peakRssMb: rss / 2 ** 20, bytesPerEntry: (rss - base) / n, dups: dups + settled, spills: table.spills ?? 0 }) + '\n',
  );
} else {
  const self = fileURLToPath(import.meta.url);
  for (const n of opts.sizes.split(',').map(Number)) {
    const args = [self, '--one', String(n), ...(opts.memory ? ['--memory', opts.memory] : []), ...(opts['spill-dir'] ? ['--spill-dir', opts['spill-dir']] : [])];
    process.stdout.write(execFileSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
  }
}
