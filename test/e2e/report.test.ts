import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startCli, unique, workdir } from '../support/cli.js';
import { testKafka, topicWithBacklog } from '../support/kafka-client.js';
import { exerciseCompletedSchema } from '../support/seed-schema.js';
import { assertWellFormedXml } from '../support/xml.js';

const audited = `name: audited
params:
  topic: { required: true }
  group: { required: true }
  password: { default: "p4ssw0rd-never-shown", secret: true }
steps:
  - id: create-topic
    title: Create topic \${{ params.topic }}
    uses: kafka.topic
    with: { name: "\${{ params.topic }}", partitions: 2 }
  - id: register-schema
    uses: schema.register
    with: { event: ExerciseCompleted, version: 0, file: event.json }
  - id: approve-switch
    uses: confirm
    with: { message: Switch the flag on? }
  - id: switch
    uses: flag.set
    with: { key: "\${{ params.topic }}-async", on: true }
  - id: drained
    uses: kafka.drain
    with: { topic: "\${{ params.topic }}", group: "\${{ params.group }}", samples: 2 }
    interval: 250ms
    timeout: 60s
`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('migrate report, on a real run against the broker', () => {
  it('a Markdown audit trail: a failure and its fix, the approval, the flag flip, lag samples, the schema version', async () => {
    const topic = unique('report');
    const group = unique('g');
    await topicWithBacklog(topic, [4, 3]);
    const cwd = await workdir({ 'audited.yaml': audited, 'event.json': '{"type": "object",}' });
    const run = `audited-${topic}`;
    const params = ['-p', `topic=${topic}`, '-p', `group=${group}`];

    // 1. the schema file is broken: the run fails at register-schema
    const failed = await runCli(['run', 'audited.yaml', ...params], { cwd });
    expect(failed.code, failed.stdout).toBe(1);
    // 2. fixed: it registers the schema and pauses at the gate
    await writeFile(path.join(cwd, 'event.json'), JSON.stringify(exerciseCompletedSchema, null, 2));
    expect((await runCli(['run', 'audited.yaml', ...params], { cwd })).code).toBe(3);
    // 3. approved: switches the flag, then waits for the drain while a consumer catches up
    const last = startCli(['run', 'audited.yaml', '--name', run, '--approve', 'approve-switch', '--json'], { cwd });
    let out = '';
    last.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    while (!out.includes('"step.progress"') && last.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    const consumer = testKafka().consumer({ groupId: group });
    await consumer.connect();
    cleanups.push(() => consumer.disconnect());
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ autoCommitInterval: 100, eachMessage: async () => undefined });
    const done = await last.result;
    expect(done.code, done.stderr).toBe(0);

    const res = await runCli(['report', run], { cwd });
    expect(res.code, res.stderr).toBe(0);
    const md = res.stdout;
    expect(md.startsWith(`# Run \`${run}\`\n`)).toBe(true);
    expect(md).toContain('| **Playbook** | `audited` (audited.yaml, sha256 `');
    expect(md).toContain('| **Status** | completed |');
    expect(md).toContain('| **Invocations** | 3 (');
    expect(md).toContain(`| **Params** | \`topic=${topic}\`, \`group=${group}\`, \`password=***\` |`);
    expect(md).not.toContain('p4ssw0rd-never-shown');
    expect(md).toMatch(/\| 1 \| `create-topic` \| `kafka\.topic` \| done \| 1 \| .* \| \d+m?s \| topic .* exists with 2 partitions \|/);
    expect(md).toMatch(/\| 2 \| `register-schema` \| `schema\.register` \| done \| 2 \|/);
    expect(md).toMatch(/## Approvals\n\n\| Gate \| Approved by \| Via \| At \|\n.*\n\| `approve-switch` \| \S+@\S+ \| `--approve` \| \d{4}-\d\d-\d\dT/);
    expect(md).toMatch(new RegExp(`## Flag flips\\n\\n.*\\n.*\\n\\| \\S+ \\| \`switch\` \\| \`${topic}-async\` \\| on \\| did not exist \\|`));
    expect(md).toMatch(/## Progress samples\n\n.*\n.*\n\| \S+ \| `drained` \| \d+m?s \| lag 7 · 2\/2 partitions lagging/);
    expect(md).toMatch(/## Schema versions\n\n.*\n.*\n\| `register-schema` \| `ExerciseCompleted` \| 0 \| .*schemas\/ExerciseCompleted\/0\.json \| by this run, /);
    expect(md).toMatch(/## Failures\n\n.*\n.*\n\| \S+ \| `register-schema` \| the schema file is not valid: event\.json:1:\d+: not valid JSON/);
    expect(md).toContain('## Skipped steps\n\nNone.\n');

    // On stdout the charts are only named: there is nowhere to put an image.
    expect(md).toContain('## Charts\n\nDrawn from the progress samples above; `--out FILE` writes each as an SVG file beside the report');
    expect(md).toContain('\n- Consumer lag: drained\n');

    const file = path.join(cwd, 'audit.md');
    const written = await runCli(['report', run, '--out', 'audit.md'], { cwd });
    expect(written.code).toBe(0);
    expect(written.stdout).toMatch(new RegExp(`^wrote the report of run ${run} to audit\\.md and \\d charts? beside it \\(audit-drained-lag\\.svg`));
    const inFile = await readFile(file, 'utf8');
    expect(inFile).toContain('![Consumer lag: drained](audit-drained-lag.svg)');
    // Apart from the charts, the file is what stdout showed.
    const withoutCharts = (text: string) => text.replace(/## Charts\n[\s\S]*?\n## /, '## ').replace(/Generated by .*/, '');
    expect(withoutCharts(inFile)).toBe(withoutCharts(md));
    const svg = await readFile(path.join(cwd, 'audit-drained-lag.svg'), 'utf8');
    expect(assertWellFormedXml(svg)[0]).toBe('svg');
    expect(svg).toContain('<title>Consumer lag: drained</title>');

    const html = await runCli(['report', run, '--format', 'html', '--out', 'audit.html'], { cwd });
    expect(html.code, html.stderr).toBe(0);
    const page = await readFile(path.join(cwd, 'audit.html'), 'utf8');
    expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(page).toContain('<figure><svg xmlns="http://www.w3.org/2000/svg"');
    expect(page).toContain(`<h1>Run <code>${run}</code></h1>`);
    expect(page).not.toContain('p4ssw0rd-never-shown');
    // Self-contained: nothing to fetch, no script.
    expect(page).not.toMatch(/<script|<link|\ssrc=|url\(/i);
  });

  it('an unknown run is bad input (exit 2)', async () => {
    const cwd = await workdir();
    const res = await runCli(['report', 'nope'], { cwd });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('error: no run named nope');
  });
});
