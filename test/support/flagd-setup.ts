// vitest globalSetup (through services-setup.ts): a real flagd serving a flag file over OFREP,
// for the propagation tests in test/services/.
//
// With FLAGD_OFREP_URL and FLAGD_FLAG_FILE both set (e.g. from `node scripts/flagd.mjs start`),
// that flagd and the file it serves are used as they are. Otherwise flagd is built once
// (scripts/flagd-lib.mjs) and started in a fresh temp dir serving <dir>/flags.json, and both
// variables are set in this process's environment, which the test workers inherit.
//
// Not MIGRATE_FLAGS_OFREP_URL: every CLI the services tests spawn inherits this environment, and
// that variable would make each of their flag.set steps wait on this flagd. Tests that want
// propagation pass it to their CLI themselves.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { TestProject } from 'vitest/node';

import { startFlagd } from '../../scripts/flagd-lib.mjs';
import { startServerForTests } from './server-setup.js';

const log = (message: string): void => {
  process.stderr.write(`[flagd] ${message}\n`);
};

export default async function setup(_project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.FLAGD_OFREP_URL?.trim() && process.env.FLAGD_FLAG_FILE?.trim()) return undefined;

  const { teardown } = await startServerForTests({
    prefix: 'migrate-flagd-test-',
    start: async (dataDir) => {
      await writeFile(path.join(dataDir, 'flags.json'), `${JSON.stringify({ $schema: 'https://flagd.dev/schema/v0/flags.json', flags: {} }, null, 2)}\n`);
      return startFlagd({ flagFile: path.join(dataDir, 'flags.json'), dataDir: path.join(dataDir, 'flagd'), log });
    },
    pids: (flagd) => [flagd.pid],
    env: (flagd, dataDir) => ({ FLAGD_OFREP_URL: flagd.ofrepUrl, FLAGD_FLAG_FILE: path.join(dataDir, 'flags.json') }),
  });
  return teardown;
}
