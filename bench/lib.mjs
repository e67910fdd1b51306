// What the benchmarks share: a timed child process (wall time, peak RSS and CPU by GNU time), and
// the statistics and formats of their rows.

import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs a command, returning wall ms, peak RSS (KB) and CPU seconds (user + system) as measured by GNU time. */
export function timed(cmd, args, { env = {}, cwd = root, expectCodes = [0] } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const [rssKb, user, system] = (err.trim().split('\n').pop() ?? '').split(' ').map(Number);
      if (!expectCodes.includes(code)) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-800)}`));
      resolve({ ms, rssKb, cpuS: user + system });
    });
  });
}

export function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1] };
}

export async function repeat(n, fn) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await fn(i));
  return out;
}

export const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
export const fmtStat = (s, f = fmtMs) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;

/**
 * Replaces the block `<!-- bench:ID -->` ... `<!-- /bench:ID -->` of bench/RESULTS.md with `markdown`
 * (or puts it under the title when the file has no such block yet), leaving every other section,
 * the written-up findings of earlier runs, as it is.
 */
export async function writeResultsSection(id, markdown) {
  const file = path.join(root, 'bench/RESULTS.md');
  const text = await readFile(file, 'utf8').catch(() => '# Benchmark results\n');
  const [open, close] = [`<!-- bench:${id} -->`, `<!-- /bench:${id} -->`];
  const block = `${open}\n${markdown.trim()}\n${close}`;
  const at = text.indexOf(open);
  const end = text.indexOf(close);
  let next;
  if (at >= 0 && end > at) next = text.slice(0, at) + block + text.slice(end + close.length);
  else {
    const title = text.match(/^# .*\n+/)?.[0] ?? '';
    next = `${title}${block}\n\n${text.slice(title.length)}`;
  }
  await writeFile(file, next);
}

/**
 * Creates a topic of `partitions` partitions and waits for a leader on each. A KRaft controller
 * takes at most 10,000 records per request (a partition is one): a big topic grows in steps.
 */
export async function createTopicInSteps(admin, topic, partitions, step = 5000) {
  await admin.createTopics({ waitForLeaders: false, timeout: 300_000, topics: [{ topic, numPartitions: Math.min(partitions, step) }] });
  await waitForLeaders(admin, topic, Math.min(partitions, step));
  for (let count = step * 2; count - step < partitions; count += step) {
    await admin.createPartitions({ timeout: 300_000, topicPartitions: [{ topic, count: Math.min(count, partitions) }] });
    await waitForLeaders(admin, topic, Math.min(count, partitions));
  }
}

/** Until every one of the topic's partitions has a leader. */
export async function waitForLeaders(admin, topic, partitions) {
  for (let i = 0; i < 600; i++) {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
    const ready = meta?.topics[0]?.partitions.filter((p) => p.leader >= 0).length ?? 0;
    if (ready === partitions) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${topic}: not every partition of ${partitions} has a leader after 5 minutes`);
}


/**
 * Event number `n` of the benches' topics, a seed-schema ExerciseCompleted of ~314 bytes: its key
 * (one of 100 exercises) and its JSON value, the same whoever writes it (kafkajs or kcat -P).
 */
export function benchEvent(n, produced_at) {
  const id = `ex-${n % 100}`;
  const value = JSON.stringify({ event_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, event_version: 0, event_name: 'ExerciseCompleted', produced_at, payload: { exercise_id: id, title: `Exercise ${id}`, author_id: `author-${id}`, candidate_id: `cand-${n}`, completed_at: produced_at } });
  return { key: id, value };
}
