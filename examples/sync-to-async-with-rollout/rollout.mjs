#!/usr/bin/env node
// A tiny stand-in for `kubectl` on one machine: rolls out a service described by a JSON manifest as
// a local background process, so the exec step of this example runs against a real command. In
// production the same three commands are `kubectl apply -f`, `kubectl rollout status` and
// `kubectl rollout undo` (see README.md). Node builtins only.
//
//   node rollout.mjs apply  -f consumer.json   start the service unless it runs already (idempotent)
//   node rollout.mjs status -f consumer.json   exit 0 once it answers GET <url>/health with 200;
//                                              its last line is {"url": ..., "pid": ...} (the step's outputs)
//   node rollout.mjs delete -f consumer.json   stop it (SIGTERM) and forget it
//
// A manifest: {"name": "exercises-consumer", "command": ["node", "demo/consumer.mjs", "--brokers", ...]}.
// What runs is recorded in .rollout/<name>.json; the service's stdout and stderr go to .rollout/<name>.log,
// where it must print `LISTENING http://host:port` once it serves.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [verb, flag, manifestFile] = process.argv.slice(2);
if (!['apply', 'status', 'delete'].includes(verb) || flag !== '-f' || !manifestFile) {
  process.stderr.write('usage: node rollout.mjs apply|status|delete -f MANIFEST.json\n');
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
const record = path.join('.rollout', `${manifest.name}.json`);
const log = path.join('.rollout', `${manifest.name}.log`);

/** What runs now for this manifest, if it still runs. */
function running() {
  if (!existsSync(record)) return undefined;
  const r = JSON.parse(readFileSync(record, 'utf8'));
  try {
    process.kill(r.pid, 0);
  } catch {
    return undefined;
  }
  // A zombie (dead, waiting for init to collect it) does not run either.
  const stat = existsSync(`/proc/${r.pid}/stat`) ? readFileSync(`/proc/${r.pid}/stat`, 'utf8') : '';
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z' ? undefined : r;
}

if (verb === 'apply') {
  const now = running();
  if (now && JSON.stringify(now.command) === JSON.stringify(manifest.command)) {
    console.log(`deployment ${manifest.name} unchanged (pid ${now.pid})`);
    process.exit(0);
  }
  if (now) process.kill(now.pid, 'SIGTERM');
  mkdirSync('.rollout', { recursive: true });
  const out = openSync(log, 'w');
  // A session of its own: the service outlives this command and the process group migrate stops.
  const [program, ...args] = manifest.command;
  const child = spawn(program, args, { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  writeFileSync(record, JSON.stringify({ pid: child.pid, command: manifest.command }));
  child.unref();
  console.log(`deployment ${manifest.name} ${now ? 'configured' : 'created'} (pid ${child.pid})`);
} else if (verb === 'status') {
  const now = running();
  if (!now) {
    console.log(`deployment ${manifest.name} is not running`);
    process.exit(1);
  }
  const url = /^LISTENING (http:\/\/\S+)$/m.exec(existsSync(log) ? readFileSync(log, 'utf8') : '')?.[1];
  const health = url ? await globalThis.fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined) : undefined;
  if (health?.status !== 200) {
    console.log(`Waiting for deployment ${manifest.name} rollout to finish: 0 of 1 updated replicas are available...`);
    process.exit(1);
  }
  console.log(`deployment ${manifest.name} successfully rolled out`);
  console.log(JSON.stringify({ url, pid: now.pid }));
} else {
  const now = running();
  if (now) {
    process.kill(now.pid, 'SIGTERM');
    for (let i = 0; i < 100 && running(); i++) await new Promise((r) => setTimeout(r, 100));
  }
  rmSync(record, { force: true });
  console.log(`deployment ${manifest.name} deleted`);
}
