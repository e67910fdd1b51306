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
import os from 'node:os';
import path from 'node:path';

import { ensureFlagd, runningFlagd, startFlagd, stopFlagdFromStateFile } from './flagd-lib.mjs';

const USAGE = 'usage: node scripts/flagd.mjs start|stop|build [--flag-file FILE] [--data-dir DIR]';
const log = (m) => process.stderr.write(`[flagd] ${m}\n`);

async function main(argv) {
  const [command, ...rest] = argv;
  let dataDir = path.join(process.env.TMPDIR || os.tmpdir(), 'migrate-flagd');
  let flagFile = 'flags.json';
  for (let i = 0; i < rest.length; i++) {
    const value = rest[i + 1];
    if (rest[i] === '--data-dir' && value) dataDir = rest[++i];
    else if (rest[i] === '--flag-file' && value) flagFile = rest[++i];
    else throw new Error(`unknown argument ${rest[i]}; ${USAGE}`);
  }
  if (command === 'start') {
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
  } else if (command === 'build') {
    process.stdout.write(`${await ensureFlagd({ log })}\n`);
  } else if (command === 'stop') {
    log((await stopFlagdFromStateFile(dataDir)) ? 'stopped' : 'not running');
  } else {
    throw new Error(USAGE);
  }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
