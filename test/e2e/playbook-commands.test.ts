import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, workdir } from '../support/cli.js';

const local = `name: local-one
description: |
  A local playbook
  on two lines.
params:
  topic: { required: true, description: the topic }
steps:
  - id: go
    title: 'Go "now" with \${{ params.topic }} #1'
    uses: confirm
`;

async function withPlaybooks(files: Record<string, string>): Promise<string> {
  const cwd = await workdir();
  await mkdir(path.join(cwd, 'playbooks'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(cwd, 'playbooks', name), text);
  return cwd;
}

describe('migrate list', () => {
  it('lists built-in and ./playbooks/ playbooks with descriptions; a broken one with its problem', async () => {
    const cwd = await withPlaybooks({ 'local-one.yaml': local, 'broken.yaml': 'name: broken\nsteps:\n  - id: a\n    uses: nope\n' });
    const res = await runCli(['list'], { cwd });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^local-one +local +A local playbook on two lines\.$/m);
    expect(res.stdout).toMatch(/^ +1 steps; params: topic=…$/m);
    expect(res.stdout).toMatch(/^sync-to-async +built-in +Move a synchronous HTTP call/m);
    expect(res.stdout).toMatch(/^event-upgrade +built-in +Move an event from v0 to v1/m);
    expect(res.stdout).toMatch(/^broken +local +does not load: playbooks\/broken\.yaml:4:11: unknown step type "nope"/m);

    const json = JSON.parse((await runCli(['list', '--json'], { cwd })).stdout) as { playbooks: { name: string; source: string; description?: string; steps: number; problems?: string[] }[] };
    expect(json.playbooks.map((p) => p.name)).toEqual(['async-to-sync', 'broken', 'demo', 'event-upgrade', 'event-upgrade-topic-per-version', 'local-one', 'sync-to-async']);
    expect(json.playbooks.find((p) => p.name === 'local-one')).toMatchObject({ source: 'local', description: 'A local playbook on two lines.', steps: 1, params: [{ name: 'topic', required: true, description: 'the topic' }] });
    expect(json.playbooks.find((p) => p.name === 'demo')).toMatchObject({ source: 'built-in', steps: 3 });
    expect(json.playbooks.find((p) => p.name === 'broken')?.problems?.[0]).toContain('unknown step type');

    expect((await runCli(['list', '--names'], { cwd })).stdout).toBe('async-to-sync\nbroken\ndemo\nevent-upgrade\nevent-upgrade-topic-per-version\nlocal-one\nsync-to-async\n');
  });

  it('a ./playbooks/ playbook shadows the built-in of the same name', async () => {
    const cwd = await withPlaybooks({ 'demo.yaml': local.replace('local-one', 'demo') });
    const json = JSON.parse((await runCli(['list', '--json'], { cwd })).stdout) as { playbooks: { name: string; source: string }[] };
    expect(json.playbooks.filter((p) => p.name === 'demo')).toEqual([expect.objectContaining({ source: 'local', file: 'playbooks/demo.yaml' })]);
  });
});

describe('migrate validate', () => {
  it('exit 0 "valid" when the playbook loads and binds; exit 2 with every problem as file:line:col', async () => {
    const cwd = await withPlaybooks({ 'local-one.yaml': local });
    const ok = await runCli(['validate', 'local-one', '-p', 'topic=orders'], { cwd });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('playbooks/local-one.yaml: valid (playbook local-one, 1 step)\n');

    const missing = await runCli(['validate', 'local-one'], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('playbooks/local-one.yaml:6:3: missing required param "topic" (the topic): pass --param topic=<value>\n');

    await writeFile(path.join(cwd, 'bad.yaml'), 'name: bad\nsteps:\n  - id: a\n    uses: kafka.topik\n  - id: a\n    uses: confirm\n    with: { message: "${{ params.nope }}" }\n');
    const bad = await runCli(['validate', 'bad.yaml', '--json'], { cwd });
    expect(bad.code).toBe(2);
    const result = JSON.parse(bad.stdout) as { ok: boolean; problems: { file: string; line: number; col: number; message: string }[] };
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => `${p.file}:${p.line}:${p.col}`)).toEqual(['bad.yaml:4:11', 'bad.yaml:5:9', 'bad.yaml:7:23']);
  });

  it('touches nothing: no state directory, no Kafka needed', async () => {
    const cwd = await workdir();
    const res = await runCli(['validate', 'demo', '-p', 'topic=x'], { cwd, env: { KAFKA_BROKERS: '' } });
    expect(res.code, res.stderr).toBe(0);
    expect((await runCli(['status', '--json'], { cwd })).stdout).toBe('{"runs":[]}\n');
  });

  it('an unknown playbook or a bad --param is bad input (exit 2)', async () => {
    const cwd = await workdir();
    const res = await runCli(['validate', 'nope'], { cwd });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('error: no playbook named nope');
    expect((await runCli(['validate', 'demo', '-p', 'topic'], { cwd })).code).toBe(2);
  });
});

describe('migrate graph', () => {
  it('prints a Mermaid flowchart of the steps, titles escaped and expanded with --param', async () => {
    const cwd = await withPlaybooks({ 'local-one.yaml': local });
    const res = await runCli(['graph', 'local-one', '-p', 'topic=orders'], { cwd });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(
      [
        '---',
        'title: "local-one"',
        '---',
        'flowchart TD',
        '  s1{{"<b>go</b> <i>confirm</i><br/>Go #quot;now#quot; with orders #35;1"}}',
        '  classDef gate fill:#fff4d6,stroke:#c08a00',
        '  classDef wait fill:#eef6ff,stroke:#3b82c4',
        '  class s1 gate',
        '',
      ].join('\n'),
    );
    const builtin = await runCli(['graph', 'sync-to-async'], { cwd });
    expect(builtin.code, builtin.stderr).toBe(0);
    expect(builtin.stdout).toContain('{{"<b>approve-switch</b> <i>confirm</i>');
    expect(builtin.stdout.match(/ --> /g)).toHaveLength(10);
  });
});
