#!/usr/bin/env node
// Runs a real flagd for local work, serving a flag file over OFREP (see scripts/flagd-lib.mjs).
//
//   node scripts/flagd.mjs start [--flag-file FILE] [--data-dir DIR]
//        prints MIGRATE_FLAGS_OFREP_URL=http://127.0.0.1:<port> last on stdout
//   node scripts/flagd.mjs stop  [--data-dir DIR]
//   node scripts/flagd.mjs build      builds flagd into the cache if it is not there (for CI, before the tests)
//
// The default flag file is ./flags.json (created, with no flags, if missing); the default data dir
// is ${TMPDIR:-/tmp}/migrate-flagd. `start` reuses a flagd already running from that dir.

import { writeFile } from 'node:fs/promises';

import { ensureFlagd, runningFlagd, startFlagd, stopFlagdFromStateFile } from './flagd-lib.mjs';
import { serverCli } from './server-cli.mjs';

const log = (m) => process.stderr.write(`[flagd] ${m}\n`);

async function start({ dataDir, flagFile }) {
  const running = await runningFlagd(dataDir);
  if (running) {
    log(`already running (pid ${running.pid}) serving ${running.flagFile}`);
    process.stdout.write(`MIGRATE_FLAGS_OFREP_URL=${running.ofrepUrl}\n`);
    return;
  }
  // flagd watches an existing file; an empty flag file is what flag.set would create anyway.
  await writeFile(flagFile, '{\n  "$schema": "https://flagd.dev/schema/v0/flags.json",\n  "flags": {}\n}\n', { flag: 'wx' }).catch((err) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const flagd = await startFlagd({ flagFile, dataDir, log });
  process.stdout.write(`MIGRATE_FLAGS_OFREP_URL=${flagd.ofrepUrl}\n`);
}

await serverCli({
  name: 'flagd',
  options: { '--flag-file': ['flagFile', 'flags.json'] },
  commands: {
    start,
    stop: async ({ dataDir }) => log((await stopFlagdFromStateFile(dataDir)) ? 'stopped' : 'not running'),
    build: async () => process.stdout.write(`${await ensureFlagd({ log })}\n`),
  },
});
