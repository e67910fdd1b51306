// The exec step's commands under faults, repeated: migrate SIGKILLed at a random moment of a run of
// exec steps (each apply must run once: the resumed run checks first), and a step's timeout or a
// Ctrl-C that must stop the command with every process it started (no orphan left, by pid).
// (Each once, as a user meets it: test/e2e/exec-step.test.ts.)
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startCli, workdir, type CliResult } from '../support/cli.js';
import { familyPids, familyWorkdir, gone, killAll } from '../support/process-family.js';
import { report } from './figures.js';
import { seededRandom } from './support.js';

const RUNS = Number(process.env.EXEC_RUNS ?? 10);
/** Stops are slower (a command that ignores SIGTERM has the grace before its SIGKILL). */
const STOPS = Number(process.env.EXEC_STOPS ?? 6);
const SEED = Number(process.env.TORTURE_SEED ?? Date.now() % 1_000_000);
const node = JSON.stringify(process.execPath);
const STEPS = ['deploy', 'migrate-db', 'rollout'];

const leftovers: number[] = [];
afterEach(() => killAll(leftovers.splice(0)));

/**
 * Three exec steps; each apply counts its runs, makes its effect (at once, as `kubectl apply`
 * does), then takes a while; each check is done once the effect is there.
 */
async function rolloutWorkdir(): Promise<string> {
  return workdir({
    'apply.mjs': `import { appendFileSync, writeFileSync } from 'node:fs';
const step = process.argv[2];
appendFileSync('pids', process.pid + '\\n');
appendFileSync('applied-' + step, 'x');
writeFileSync('done-' + step, '');
setTimeout(() => {}, 50 + Math.random() * 400);
`,
    'check.mjs': `import { existsSync } from 'node:fs';
process.exit(existsSync('done-' + process.argv[2]) ? 0 : 1);
`,
    'rollout.yaml': `name: rollout
steps:
${STEPS.map((s) => `  - id: ${s}\n    uses: exec\n    with: { check: [${node}, check.mjs, ${s}], apply: [${node}, apply.mjs, ${s}] }\n`).join('')}`,
  });
}

/** Every process a test's commands wrote to `pids`, still running or not. */
async function writtenPids(cwd: string): Promise<number[]> {
  const text = await readFile(path.join(cwd, 'pids'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

async function allGoneNow(pids: readonly number[]): Promise<number> {
  let alive = 0;
  for (const pid of pids) if (!(await gone(pid))) alive += 1;
  return alive;
}

describe('exec steps under faults', () => {
  it(`SIGKILLed at random ${RUNS} times during a run of exec steps: every apply runs once (seed ${SEED})`, async (ctx) => {
    const random = seededRandom(SEED);
    let kills = 0;
    let completed = 0;
    let wrong = 0;
    let applies = 0;
    for (let run = 0; run < RUNS; run++) {
      const cwd = await rolloutWorkdir();
      let last: CliResult | undefined;
      for (let attempt = 0; attempt < 3 && last?.code !== 0; attempt++) {
        const child = startCli(['run', 'rollout.yaml', '--json'], { cwd });
        // Kills land over the whole run (one to two seconds on two busy cores): before, in and after applies.
        const timer = setTimeout(() => child.kill('SIGKILL'), 100 + random() * 1500);
        last = await child.result;
        clearTimeout(timer);
        if (last.signal === 'SIGKILL') kills += 1;
      }
      // Then run again without a kill until it completes, as an operator would.
      for (let again = 0; again < 3 && last?.code !== 0; again++) last = await runCli(['run', 'rollout.yaml', '--json'], { cwd });
      if (last?.code === 0) completed += 1;
      for (const step of STEPS) {
        const runs = (await readFile(path.join(cwd, `applied-${step}`), 'utf8').catch(() => '')).length;
        if (runs !== 1) wrong += 1;
      }
      // A command migrate ran when it was SIGKILLed outlives it (nothing can catch SIGKILL): ended here.
      const pids = await writtenPids(cwd);
      applies += pids.length;
      leftovers.push(...pids);
    }
    report(ctx, 'exec: migrate SIGKILLed during a run of exec steps', {
      runs: RUNS,
      'kills landed': kills,
      completed,
      'applies run': applies,
      'steps applied other than once': wrong,
    });
    expect(completed).toBe(RUNS);
    expect(wrong).toBe(0);
  });

  for (const fault of ['timeout', 'Ctrl-C'] as const) {
    it(`${fault} stops an exec command and the process it started, ${STOPS} times: none left running`, async (ctx) => {
      let left = 0;
      let exits = 0;
      const expected = fault === 'timeout' ? 1 : 130;
      for (let run = 0; run < STOPS; run++) {
        const cwd = await familyWorkdir({ timeout: fault === 'timeout' ? '1s' : '10m', check: [process.execPath, 'family.mjs'] }, run % 2 ? 'ignore' : undefined);
        const child = startCli(['run', 'pb.yaml'], { cwd });
        const family = await familyPids(cwd);
        leftovers.push(...family);
        if (fault === 'Ctrl-C') child.kill('SIGINT');
        const res = await child.result;
        if (res.code === expected) exits += 1;
        // Polled: the SIGKILL that ends the group's stragglers lands a moment after migrate exits.
        let alive = 2;
        for (let i = 0; i < 200 && alive; i++) {
          alive = await allGoneNow(family);
          if (alive) await new Promise((r) => setTimeout(r, 50));
        }
        left += alive;
      }
      const row = fault === 'timeout' ? 'exec: step timeout stops the process group' : 'exec: Ctrl-C stops the process group';
      report(ctx, row, { runs: STOPS, 'processes started': STOPS * 2, [`exit ${expected}`]: exits, 'left running': left });
      expect(exits).toBe(STOPS);
      expect(left).toBe(0);
    });
  }
});
