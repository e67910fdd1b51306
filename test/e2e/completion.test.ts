import { execFile } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { migrateBin, runCli, workdir } from '../support/cli.js';

const exec = promisify(execFile);
const hasZsh = await exec('zsh', ['--version']).then(
  () => true,
  () => false,
);

let cwd: string;
let bashScript: string;
let zshScript: string;

beforeAll(async () => {
  cwd = await workdir();
  // `migrate` on PATH, as the completion function calls it to list playbooks.
  await mkdir(path.join(cwd, 'bin'));
  await symlink(migrateBin, path.join(cwd, 'bin/migrate'));
  await mkdir(path.join(cwd, 'playbooks'));
  await writeFile(path.join(cwd, 'playbooks/mine.yaml'), 'name: mine\nsteps:\n  - id: a\n    uses: confirm\n');
  for (const dir of ['.migrate', 'other-state']) await mkdir(path.join(cwd, dir));
  await writeFile(path.join(cwd, '.migrate/demo-orders.json'), '{}');
  await writeFile(path.join(cwd, '.migrate/demo-orders.lock'), '{}');
  await writeFile(path.join(cwd, 'other-state/elsewhere.json'), '{}');
  bashScript = path.join(cwd, 'completion.bash');
  zshScript = path.join(cwd, 'completion.zsh');
  const bash = await runCli(['completion', 'bash'], { cwd });
  expect(bash.code, bash.stderr).toBe(0);
  await writeFile(bashScript, bash.stdout);
  const zsh = await runCli(['completion', 'zsh'], { cwd });
  expect(zsh.code, zsh.stderr).toBe(0);
  await writeFile(zshScript, zsh.stdout);
});

/** Runs the bash completion function as bash would for the words typed, the cursor on the last one. */
async function complete(...words: string[]): Promise<string[]> {
  const script = `source ${JSON.stringify(bashScript)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})
COMP_CWORD=${words.length - 1}
COMP_LINE="\${COMP_WORDS[*]}"
_migrate
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await exec('bash', ['--norc', '--noprofile', '-c', script], {
    cwd,
    env: { ...process.env, PATH: `${path.join(cwd, 'bin')}:${process.env.PATH}`, MIGRATE_STATE_DIR: '' },
  });
  return stdout.split('\n').filter(Boolean).sort();
}

describe('migrate completion', () => {
  it('bash: the script is valid bash (bash -n) and registers _migrate for migrate', async () => {
    await exec('bash', ['-n', bashScript]);
    const { stdout } = await exec('bash', ['--norc', '-c', `source ${JSON.stringify(bashScript)}; complete -p migrate`]);
    expect(stdout).toContain('-F _migrate migrate');
  });

  it('bash: completes commands, subcommands and options', async () => {
    // Read from the commander program itself: every command, including ones added later.
    expect(await complete('migrate', '')).toEqual(expect.arrayContaining(['completion', 'doctor', 'graph', 'list', 'report', 'run', 'schema', 'status', 'validate']));
    expect(await complete('migrate', 're')).toEqual(['report']);
    expect(await complete('migrate', 'schema', '')).toEqual(['compat', 'lint', 'validate']);
    expect(await complete('migrate', 'doctor', '--')).toEqual(expect.arrayContaining(['--write-check', '--json', '--state-dir', '--help']));
    expect(await complete('migrate', 'run', 'demo', '--app')).toEqual(['--approve']);
    expect(await complete('migrate', 'completion', '')).toEqual(['bash', 'zsh']);
  });

  it('bash: playbook names from migrate list, at completion time', async () => {
    expect(await complete('migrate', 'run', '')).toEqual(['async-to-sync', 'demo', 'event-upgrade', 'event-upgrade-topic-per-version', 'mine', 'sync-to-async']);
    expect(await complete('migrate', 'graph', 'm')).toEqual(['mine']);
    // option values are skipped when counting arguments
    expect(await complete('migrate', 'validate', '-p', 'topic=x', 'd')).toEqual(['demo']);
  });

  it('bash: run names for status, report and rollback, from the state dir (or --state-dir)', async () => {
    expect(await complete('migrate', 'status', '')).toEqual(['demo-orders']);
    expect(await complete('migrate', 'report', 'de')).toEqual(['demo-orders']);
    expect(await complete('migrate', 'rollback', '')).toEqual(['demo-orders']);
    expect(await complete('migrate', '--state-dir', 'other-state', 'report', '')).toEqual(['elsewhere']);
    expect(await complete('migrate', 'report', '--state-dir', 'oth')).toEqual(['other-state']);
  });

  it('zsh: a #compdef script naming every command, with descriptions', async () => {
    const { stdout } = await runCli(['completion', 'zsh'], { cwd });
    expect(stdout.startsWith('#compdef migrate\n')).toBe(true);
    for (const c of ['run', 'status', 'list', 'validate', 'graph', 'report', 'doctor', 'completion']) expect(stdout).toContain(`'${c}:`);
  });

  it.skipIf(!hasZsh)('zsh: valid (zsh -n); completes commands, playbooks and runs', async () => {
    await exec('zsh', ['-n', zshScript]);
    // The completion system's builtins, stubbed to print what they are given, outside a completion widget.
    const stubs = `compdef() { :; }
compadd() { local a arr=0; for a in "$@"; do [[ $a == -- ]] && continue; if [[ $a == -a ]]; then arr=1; continue; fi; if ((arr)); then print -rl -- "\${(@P)a}"; else print -r -- "$a"; fi; done; }
_describe() { print -rl -- "\${(@P)4%%:*}"; }
_files() { print -r -- "FILES $*"; }
_message() { :; }
source ${JSON.stringify(zshScript)}`;
    const zsh = async (...words: string[]) => {
      const script = `${stubs}
words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}; PREFIX='${words.at(-1)}'; _migrate`;
      const { stdout } = await exec('zsh', ['-f', '-c', script], { cwd, env: { ...process.env, PATH: `${path.join(cwd, 'bin')}:${process.env.PATH}`, MIGRATE_STATE_DIR: '' } });
      return stdout.split('\n').filter(Boolean).sort();
    };
    expect(await zsh('migrate', '')).toEqual(expect.arrayContaining(['completion', 'doctor', 'graph', 'list', 'report', 'run', 'status', 'validate']));
    expect(await zsh('migrate', 'run', '')).toEqual(['async-to-sync', 'demo', 'event-upgrade', 'event-upgrade-topic-per-version', 'mine', 'sync-to-async']);
    expect(await zsh('migrate', 'report', '')).toEqual(['demo-orders']);
    expect(await zsh('migrate', '--state-dir', 'other-state', 'status', '')).toEqual(['elsewhere']);
    expect(await zsh('migrate', 'report', '--out', '')).toEqual(['FILES ']); // _files, no directory-only flag
    expect(await zsh('migrate', 'completion', '')).toEqual(['bash', 'zsh']);
  });

  it('an unknown shell is bad input', async () => {
    const res = await runCli(['completion', 'fish'], { cwd });
    expect(res.code).toBe(2);
  });
});
