import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { migrateBin, workdir } from '../support/cli.js';

// The composite GitHub Action (action.yml): linted by a real actionlint, built from the Go module
// proxy (scripts/actionlint.mjs), and its run script run by bash as the runner would run it.
const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

interface ActionStep {
  id?: string;
  run?: string;
  uses?: string;
  [key: string]: unknown;
}
interface ActionFile {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  runs: { using: string; steps: ActionStep[] };
}

let actionlint: string;
beforeAll(async () => {
  // Built once into ~/.cache/migrate (.ci/run builds it before the tests; cold, about a minute).
  actionlint = (await exec(process.execPath, [path.join(root, 'scripts/actionlint.mjs'), 'build'], { timeout: 600_000 })).stdout.trim();
}, 660_000);

/** A scratch project as actionlint sees one (a .git folder, workflows under .github/workflows) holding a copy of action.yml. */
async function project(workflows: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'migrate-actionlint-'));
  await mkdir(path.join(dir, '.git'));
  await mkdir(path.join(dir, '.github/workflows'), { recursive: true });
  await copyFile(path.join(root, 'action.yml'), path.join(dir, 'action.yml'));
  for (const [name, text] of Object.entries(workflows)) await writeFile(path.join(dir, '.github/workflows', name), text);
  return dir;
}

/** actionlint's findings on the project's workflows ('' when there are none). */
async function lint(dir: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await exec(actionlint, ['-no-color'], { cwd: dir });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The docs' example workflow, calling this repository's action.yml as a local action so actionlint checks the inputs it passes. */
async function example(): Promise<string> {
  const text = await readFile(path.join(root, 'examples/github/migrate.yml'), 'utf8');
  expect(text).toContain('uses: your-org/migrate@v1');
  return text.replace('uses: your-org/migrate@v1', 'uses: ./');
}

/** action.yml's steps as a workflow job, so actionlint checks them as it checks a workflow's (expressions, shellcheck on run scripts). */
async function actionAsWorkflow(): Promise<string> {
  const action = parse(await readFile(path.join(root, 'action.yml'), 'utf8')) as ActionFile;
  const inputs = Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, { description: v.description, required: Boolean(v.required), default: v.default ?? '' }]));
  return stringify({ name: 'action steps', on: { workflow_dispatch: { inputs } }, jobs: { action: { 'runs-on': 'ubuntu-latest', steps: action.runs.steps } } });
}

describe('action.yml', () => {
  it('passes actionlint: its metadata through the example workflow, its steps (with shellcheck) as a job', async () => {
    // Without shellcheck actionlint silently skips the run scripts: that would not be a pass.
    await exec('shellcheck', ['--version']).catch(() => {
      throw new Error('shellcheck is not installed: apt-get install shellcheck (.ci/run does)');
    });
    const dir = await project({ 'example.yml': await example(), 'action-steps.yml': await actionAsWorkflow() });
    expect(await lint(dir)).toEqual({ code: 0, out: '' });
  });

  it('actionlint does check it: a misspelt input and an unquoted variable are findings', async () => {
    const misspelt = (await example()).replace('playbook: sync-to-async', 'playbok: sync-to-async');
    const steps = (await actionAsWorkflow()).replace('cd "$GITHUB_ACTION_PATH"', 'cd $GITHUB_ACTION_PATH');
    const res = await lint(await project({ 'example.yml': misspelt, 'action-steps.yml': steps }));
    expect(res.code).toBe(1);
    expect(res.out).toContain('input "playbok" is not defined in action "migrate run"');
    expect(res.out).toContain('SC2086');
  });

  it('its run step, run by bash: params a line each, the outputs from the events, exit 3 at a gate unless succeed-on-pause', async () => {
    const action = parse(await readFile(path.join(root, 'action.yml'), 'utf8')) as ActionFile;
    const script = action.runs.steps.find((s) => s.id === 'run')?.run;
    expect(script).toBeTruthy();
    const cwd = await workdir({
      'gated.yaml': `name: gated
params:
  topic: { required: true }
  note: { default: "" }
steps:
  - id: settle
    uses: pause
    with: { for: 1ms, reason: "\${{ params.note }}" }
  - id: go-live
    uses: confirm
    with: { message: "Go live?" }
`,
    });
    const run = async (inputs: Record<string, string>) => {
      const output = path.join(cwd, `output-${Math.random().toString(36).slice(2)}`);
      await writeFile(output, '');
      const env = {
        ...process.env,
        CI: 'true',
        GITHUB_ACTIONS: undefined,
        GITHUB_STEP_SUMMARY: undefined,
        GITHUB_OUTPUT: output,
        RUNNER_TEMP: cwd,
        GITHUB_RUN_ID: '1',
        GITHUB_RUN_ATTEMPT: '1',
        MIGRATE_BIN: migrateBin,
        INPUT_PLAYBOOK: 'gated.yaml',
        INPUT_PARAMS: '',
        INPUT_NAME: '',
        INPUT_APPROVE: '',
        INPUT_YES: 'false',
        INPUT_JUNIT: '',
        INPUT_CONFIG: '',
        INPUT_STATE_DIR: '',
        INPUT_SUCCEED_ON_PAUSE: 'false',
        ...inputs,
      };
      // As the runner runs a bash step: bash --noprofile --norc -eo pipefail {0}.
      const res = await exec('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script as string], { cwd, env }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      const outputs = Object.fromEntries((await readFile(output, 'utf8')).trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
      return { ...res, outputs };
    };

    const paused = await run({ INPUT_PARAMS: 'topic=orders\r\n\nnote=a note = with spaces\n', INPUT_JUNIT: 'reports/j.xml' });
    expect(paused.code, paused.stderr).toBe(3);
    expect(paused.outputs).toEqual({ status: 'paused', 'run-name': 'gated-orders', 'exit-code': '3', junit: 'reports/j.xml' });
    expect(paused.stdout).toContain('migrate run exited 3 (paused)');
    expect(paused.stdout).toMatch(/gated-orders.*paused/); // migrate status, for the log
    expect(await readFile(path.join(cwd, 'reports/j.xml'), 'utf8')).toContain('<testcase classname="gated" name="go-live"');

    const tolerated = await run({ INPUT_NAME: 'gated-orders', INPUT_SUCCEED_ON_PAUSE: 'true' });
    expect(tolerated.code, tolerated.stderr).toBe(0);
    expect(tolerated.outputs.status).toBe('paused');

    const approved = await run({ INPUT_NAME: 'gated-orders', INPUT_APPROVE: ' go-live\n' });
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.outputs).toEqual({ status: 'completed', 'run-name': 'gated-orders', 'exit-code': '0' });

    const bad = await run({ INPUT_PLAYBOOK: 'missing.yaml' });
    expect(bad.code).toBe(2);
    expect(bad.outputs).toEqual({ status: 'bad-input', 'run-name': '', 'exit-code': '2' });
  });
});
