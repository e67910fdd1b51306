// Injection: param values that look like templates, shell, YAML or prototype keys stay inert data.
// They reach a flag key, an HTTP header, a gate message and a topic name literally (or are refused
// as bad input), nothing is executed, and no prototype is polluted.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileFlagProvider } from '../../src/adapters/flags-file.js';
import { bindPlaybook } from '../../src/playbook/bind.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { expandDeep } from '../../src/playbook/template.js';
import { events, runCli, unique, workdir } from '../support/cli.js';
import { testKafka, topicPartitions } from '../support/kafka-client.js';
import { report } from './figures.js';
import { STACK_TRACE } from './support.js';

const marker = path.join(os.tmpdir(), `migrate-pwned-${randomBytes(6).toString('hex')}`);
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

/** Values an attacker (or an unlucky operator) might pass as a param. */
const VALUES = [
  '${{ env.HOME }}',
  '${{ params.url }}',
  '$(touch MARKER)',
  '`touch MARKER`',
  '; touch MARKER; rm -rf KEEP',
  '&& touch MARKER',
  '| touch MARKER #',
  "'; touch MARKER; '",
  '__proto__',
  'constructor',
  'prototype',
  '{"__proto__": {"polluted": true}}',
  'key: value',
  '- item',
  '{a: 1, b: [2]}',
  '&anchor *alias',
  '!!js/function "function () { return 1 }"',
  '# not a comment',
  '--- ...',
  'line one\nline two',
  'ok\r\nX-Injected: yes',
  '%0d%0aX-Injected: yes',
  '\u202eright-to-left',
].map((v) => v.replaceAll('MARKER', marker));

const topicsCreated: string[] = [];
afterAll(async () => {
  if (topicsCreated.length) {
    const admin = testKafka().admin();
    await admin.connect();
    await admin.deleteTopics({ topics: topicsCreated }).catch(() => undefined);
    await admin.disconnect();
  }
});

/** Records the headers of every request; answers 200. */
async function echoServer() {
  const received: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    received.push(req.headers);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/echo`, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const inertPlaybook = `name: inert
params:
  v: { required: true }
  url: { required: true }
  label: { default: "label \${{ params.v }}" }
steps:
  - id: flag
    title: Flag \${{ params.v }}
    uses: flag.set
    with: { key: "\${{ params.v }}", on: true }
  - id: probe
    uses: http.probe
    with: { url: "\${{ params.url }}", headers: { X-Value: "\${{ params.v }}", X-Label: "\${{ params.label }}" }, successes: 1 }
  - id: gate
    uses: confirm
    with: { message: "\${{ params.v }}" }
`;

describe('injection: param values stay inert data', () => {
  it('into a flag key, an HTTP header and a gate message: passed literally, nothing executed', async (ctx) => {
    const server = await echoServer();
    const cwd = await workdir({ 'inert.yaml': inertPlaybook, KEEP: 'still here\n' });
    let literal = 0;
    let refusedSafely = 0;
    const problems: string[] = [];
    try {
      for (const [i, v] of VALUES.entries()) {
        const before = server.received.length;
        const res = await runCli(['run', 'inert.yaml', '--name', `inert-${i}`, '-p', `v=${v}`, '-p', `url=${server.url}`, '--json'], { cwd });
        const shown = `value ${JSON.stringify(v)}: exit ${res.code}\n${res.stdout.slice(-1500)}\n${res.stderr}`;
        if (STACK_TRACE.test(res.stderr) || /this is a bug/.test(res.stderr)) problems.push(`stack trace for ${shown}`);
        const headers = server.received.slice(before);
        if (headers.some((h) => 'x-injected' in h)) problems.push(`a header was injected by ${shown}`);
        const flags = JSON.parse(await readFile(path.join(cwd, 'flags.json'), 'utf8')) as { flags: Record<string, { defaultVariant: string }> };
        const flagIsLiteral = Object.hasOwn(flags.flags, v) && flags.flags[v]?.defaultVariant === 'on';
        if (!flagIsLiteral) problems.push(`flag key not literal for ${shown}`);
        if (!/^[\t\x20-\x7e]*$/.test(v)) {
          // A header value cannot hold a line break or a character beyond Latin-1: the probe
          // refuses it (the step fails), it never sends it, let alone split into two headers.
          if (res.code !== 1 || headers.length !== 0) problems.push(`expected the probe to refuse ${shown}`);
          else refusedSafely += 1;
          continue;
        }
        const gate = events(res.stdout).find((e) => e.type === 'gate.waiting');
        const ok = res.code === 3 && headers.length === 1 && headers[0]?.['x-value'] === v && headers[0]?.['x-label'] === `label ${v}` && gate?.message === v;
        if (ok) literal += 1;
        else problems.push(`not passed literally: ${shown}\nheaders ${JSON.stringify(headers)}`);
        const state = JSON.parse(await readFile(path.join(cwd, '.migrate', `inert-${i}.json`), 'utf8')) as { params: Record<string, string> };
        if (state.params.v !== v) problems.push(`state holds ${JSON.stringify(state.params.v)} for ${shown}`);
      }
    } finally {
      await server.close();
    }
    const executed = existsSync(marker) ? 1 : 0;
    report(ctx, 'injection', {
      cases: VALUES.length,
      'passed literally': literal,
      'refused as a header (line breaks, non-ASCII)': refusedSafely,
      executed,
    });
    expect(problems).toEqual([]);
    expect(executed).toBe(0);
    expect(await readFile(path.join(cwd, 'KEEP'), 'utf8')).toBe('still here\n');
  });

  it('into a topic name: created with the literal name, or refused before anything runs', async (ctx) => {
    const prefix = unique('inj');
    const cwd = await workdir({ 'topic.yaml': `name: topic\nparams:\n  v: { required: true }\nsteps:\n  - id: t\n    uses: kafka.topic\n    with: { name: "${prefix}.\${{ params.v }}", partitions: 1 }\n` });
    let created = 0;
    let refused = 0;
    const problems: string[] = [];
    for (const [i, v] of VALUES.entries()) {
      const res = await runCli(['run', 'topic.yaml', '--name', `topic-${i}`, '-p', `v=${v}`], { cwd });
      const name = `${prefix}.${v}`;
      if (STACK_TRACE.test(res.stderr)) problems.push(`stack trace for ${JSON.stringify(v)}: ${res.stderr}`);
      if (/^[A-Za-z0-9._-]+$/.test(v)) {
        topicsCreated.push(name);
        const parts = await topicPartitions([name]);
        if (res.code === 0 && parts[name] === 1) created += 1;
        else problems.push(`topic ${name} not created literally: exit ${res.code} ${res.stderr}`);
      } else if (res.code === 2 && /topic\.yaml:7:\d+: kafka\.topic: steps\[0\]\.with\.name: /.test(res.stderr) && !existsSync(path.join(cwd, '.migrate', `topic-${i}.json`))) {
        refused += 1;
      } else {
        problems.push(`value ${JSON.stringify(v)}: exit ${res.code}, ${res.stderr}`);
      }
    }
    report(ctx, 'injection', { 'topic names created literally': created, 'topic names refused (exit 2)': refused, executed: existsSync(marker) ? 1 : 0 });
    expect(problems).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });

  it('prototype keys in a playbook, in params and in flag keys pollute nothing in the process that loads them', async () => {
    const text = `name: x
__proto__: { polluted: yes }
params:
  __proto__: { default: polluted }
  constructor: { default: "\${{ params.prototype }}" }
  prototype: { default: "yes" }
steps:
  - id: a
    uses: confirm
    with: { message: "\${{ params.constructor }}", __proto__: { polluted: yes } }
`;
    // Whatever the loader makes of it (an unknown key here), it is an answer, not a pollution.
    expect(() => bindPlaybook(parsePlaybook('pb.yaml', text), {})).toThrow(/unknown key "__proto__"/);
    const loaded = parsePlaybook('pb.yaml', text.replace('__proto__: { polluted: yes }\n', '').replace(', __proto__: { polluted: yes }', ''));
    const bound = bindPlaybook(loaded, { constructor: 'given', prototype: 'p' });
    expect(bound.params.constructor).toBe('given');
    expect((bound.steps[0]?.params as { message: string }).message).toBe('given');
    const expanded = expandDeep(JSON.parse('{"__proto__": {"polluted": "${{ params.prototype }}"}}'), { params: bound.params, env: {}, steps: {} }) as object;
    expect(Object.hasOwn(expanded, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(expanded)).toBe(Object.prototype);

    const dir = await mkdtemp(path.join(os.tmpdir(), 'migrate-flags-'));
    const flags = new FileFlagProvider(path.join(dir, 'flags.json'));
    for (const key of ['__proto__', 'constructor', 'prototype', 'hasOwnProperty']) {
      expect(await flags.get(key)).toBeUndefined();
      await flags.set(key, true);
      expect((await flags.get(key))?.value).toBe(true);
    }
    await writeFile(path.join(dir, 'flags2.json'), '{"flags": {"__proto__": {"state": "ENABLED", "variants": {"on": true}, "defaultVariant": "on", "polluted": true}}}');
    expect((await new FileFlagProvider(path.join(dir, 'flags2.json')).get('__proto__'))?.value).toBe(true);

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
  });
});
