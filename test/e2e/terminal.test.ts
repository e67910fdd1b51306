import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, runCli, startCli, unique, workdir } from '../support/cli.js';
import { topicPartitions } from '../support/kafka-client.js';
import { twoTopicsPlaybook as twoTopics } from '../support/playbooks.js';
import { Terminal } from '../support/terminal.js';

// migrate at a real terminal (a tmux pseudo-terminal): the live step list, gates and params asked
// for, and no questions at all under CI=true.

const flags = JSON.stringify({
  flags: {
    'orders-async': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' },
    'orders-async-producer': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
  },
});

// Flag and HTTP steps need no broker: fast, and still real (a flag file, an HTTP server).
const flagSwitch = `name: flag-switch
params:
  flag: { required: true, description: the flag that routes orders }
  state: { required: true, enum: ["on", "off"], description: what the flag serves afterwards }
  url: { default: "http://127.0.0.1:9/health" }
steps:
  - id: producer-on
    title: The producer flag is on
    uses: flag.check
    with: { key: "\${{ params.flag }}-producer", expect: "on" }
  - id: healthy
    title: The async path answers
    uses: http.probe
    with: { url: "\${{ params.url }}", successes: 5 }
    interval: 200ms
    timeout: 10s
  - id: approve-switch
    title: Switch \${{ params.flag }} \${{ params.state }}
    description: Orders start flowing through Kafka once the flag is on.
    uses: confirm
    with: { message: "Switch \${{ params.flag }} \${{ params.state }} now?" }
  - id: switch
    uses: flag.set
    with: { key: "\${{ params.flag }}", on: "\${{ params.state }}" }
`;

const terminals: Terminal[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const t of terminals.splice(0)) await t.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

async function open(args: string[], cwd: string, env?: Record<string, string>): Promise<Terminal> {
  const t = await Terminal.start(args, { cwd, ...(env ? { env } : {}) });
  terminals.push(t);
  return t;
}

async function healthEndpoint(): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
}

const flagState = async (cwd: string) =>
  (JSON.parse(await readFile(path.join(cwd, 'flags.json'), 'utf8')) as { flags: Record<string, { defaultVariant: string }> }).flags['orders-async']?.defaultVariant;

const runStatus = async (cwd: string, run: string) => (JSON.parse((await runCli(['status', run, '--json'], { cwd })).stdout) as { status: string }).status;

describe('migrate at a terminal', () => {
  it('asks at a gate with the description and the evidence so far; "y" runs it to completion', async () => {
    const topic = unique('tty-yes');
    const cwd = await workdir({ 'two.yaml': twoTopics });
    const t = await open(['run', 'two.yaml', '-p', `topic=${topic}`], cwd);

    const asked = await t.waitFor('Create the second topic?');
    expect(asked).toContain('Consumers subscribe to the second topic as soon as it exists; check the first one is in use.');
    expect(asked).toContain('Evidence so far in this run:');
    expect(asked).toMatch(new RegExp(`✓ create-a +topic ${topic}-a exists with 3 partitions`));
    expect(asked).toMatch(/⏸ approve-b +Approve the second topic +waiting for your answer/);

    await t.send('y', 'Enter');
    const { code, screen } = await t.exit();
    expect(code, screen).toBe(0);
    expect(screen).toMatch(/✓ approve-b +Approve the second topic +approved by .+ \(prompt\)/);
    expect(screen).toMatch(new RegExp(`✓ create-b +topic ${topic}-b exists with 2 partitions`));
    expect(screen).toContain(`Run two-topics-${topic} completed`);
    // The question is gone once answered: the list says what happened.
    expect(screen).not.toContain('Evidence so far');
    expect(await runStatus(cwd, `two-topics-${topic}`)).toBe('completed');
    expect(await topicPartitions([`${topic}-a`, `${topic}-b`])).toEqual({ [`${topic}-a`]: 3, [`${topic}-b`]: 2 });
  });

  it('answering "n" at a gate leaves the run paused (exit 3) with the command that continues it', async () => {
    const cwd = await workdir({ 'switch.yaml': flagSwitch, 'flags.json': flags });
    const url = await healthEndpoint();
    const t = await open(['run', 'switch.yaml', '-p', 'flag=orders-async', '-p', 'state=on', '-p', `url=${url}`, '--name', 'tty-no'], cwd);
    const asked = await t.waitFor('Switch orders-async on now?');
    expect(asked).toContain('Orders start flowing through Kafka once the flag is on.');
    expect(asked).toMatch(/✓ producer-on +flag orders-async-producer is on/);
    expect(asked).toMatch(/✓ healthy +GET http:\/\/127\.0\.0\.1:\d+\/health answered 200 in \d+ms, 5 times in a row/);

    await t.send('n', 'Enter');
    const { code, screen } = await t.exit();
    expect(code, screen).toBe(3);
    expect(screen).toMatch(/⏸ approve-switch +Switch orders-async on +waiting for approval/);
    expect(screen).toContain('migrate run switch.yaml --name tty-no --approve approve-switch');
    expect(screen).toContain('Run tty-no paused at gate approve-switch');
    expect(await runStatus(cwd, 'tty-no')).toBe('paused');
    expect(await flagState(cwd)).toBe('off');
  });

  it('asks for missing required params (text, and a list for an enum), then runs', async () => {
    const cwd = await workdir({ 'switch.yaml': flagSwitch, 'flags.json': flags });
    const url = await healthEndpoint();
    const t = await open(['run', 'switch.yaml', '-p', `url=${url}`, '--name', 'tty-params', '--yes'], cwd);

    await t.waitFor('flag (the flag that routes orders)');
    await t.send('orders-async', 'Enter');
    const choose = await t.waitFor('state (what the flag serves afterwards)');
    expect(choose).toMatch(/❯ on/);
    await t.send('Down', 'Enter');

    const { code, screen } = await t.exit();
    expect(code, screen).toBe(0);
    expect(screen).toMatch(/✓ switch +flag orders-async is off/);
    const status = JSON.parse((await runCli(['status', 'tty-params', '--json'], { cwd })).stdout) as { status: string; params: Record<string, string> };
    expect(status).toMatchObject({ status: 'completed', params: { flag: 'orders-async', state: 'off' } });
  });

  it('draws the live step list: a progress line while waiting, ✓ for every finished step at the end', async () => {
    const cwd = await workdir({ 'switch.yaml': flagSwitch, 'flags.json': flags });
    const url = await healthEndpoint();
    const t = await open(['run', 'switch.yaml', '-p', 'flag=orders-async', '-p', 'state=on', '-p', `url=${url}`, '--name', 'tty-live', '--yes'], cwd);

    // Every step is listed from the start; the probe's wait shows a bar against its 10s timeout.
    const waiting = await t.waitFor(/of 10s · \d ok in a row/);
    expect(waiting).toMatch(/○ switch/);
    expect(waiting).toMatch(/[█░]{24} \d+(ms|s) of 10s/);

    const { code, screen } = await t.exit();
    expect(code, screen).toBe(0);
    const list = screen.split('\n').filter((l) => /^[✓✗○⏸↷]/.test(l));
    expect(list).toEqual([
      expect.stringMatching(/^✓ producer-on +The producer flag is on +flag orders-async-producer is on/),
      expect.stringMatching(/^✓ healthy +The async path answers +GET .* 5 times in a row \(\d+(ms|s)\)$/),
      expect.stringMatching(/^✓ approve-switch +Switch orders-async on +approved by .+ \(--yes\)$/),
      expect.stringMatching(/^✓ switch +flag orders-async is on/),
    ]);
    expect(screen).toContain('Run tty-live completed');
    expect(screen).not.toContain('● '); // no plain lines: the list was redrawn in place
    expect(await flagState(cwd)).toBe('on');
  });

  it('never asks under CI=true, even at a terminal: exit 3 at the gate with the command that continues', async () => {
    const cwd = await workdir({ 'switch.yaml': flagSwitch, 'flags.json': flags });
    const url = await healthEndpoint();
    const t = await open(['run', 'switch.yaml', '-p', 'flag=orders-async', '-p', 'state=on', '-p', `url=${url}`, '--name', 'tty-ci'], cwd, { CI: 'true' });
    const { code, screen } = await t.exit();
    expect(code, screen).toBe(3);
    expect(screen).not.toContain('(y/N)');
    expect(screen).toContain('migrate run switch.yaml --name tty-ci --approve approve-switch');
    expect(screen).toContain('Run tty-ci paused at gate approve-switch');
    expect(await runStatus(cwd, 'tty-ci')).toBe('paused');

    // Nor for a missing param: bad input, exit 2, naming what to pass.
    const t2 = await open(['run', 'switch.yaml', '-p', 'flag=orders-async', '--name', 'tty-ci-2'], cwd, { CI: 'true' });
    const missing = await t2.exit();
    expect(missing.code, missing.screen).toBe(2);
    expect(missing.screen).toContain('missing required param "state" (what the flag serves afterwards): pass --param state=<value>');
  });

  it('status --watch redraws in place at a terminal until Ctrl-C', async () => {
    const cwd = await workdir({ 'switch.yaml': flagSwitch, 'flags.json': flags });
    const url = await healthEndpoint();
    expect((await runCli(['run', 'switch.yaml', '-p', 'flag=orders-async', '-p', 'state=on', '-p', `url=${url}`, '--name', 'watched'], { cwd })).code).toBe(3);
    const t = await open(['status', '--watch', '--interval', '200ms'], cwd);
    const first = await t.waitFor(/watched +flag-switch +paused +2\/4 +\d+(ms|s) +⏸ approve-switch +\d+(ms|s) ago/);
    expect(first).toMatch(/^RUN +PLAYBOOK +STATUS +STEPS +ELAPSED +CURRENT +UPDATED$/m);
    expect(first).toContain('every 200ms · ');
    // The run moves on in another process; the same lines on screen change.
    expect((await runCli(['run', 'switch.yaml', '--name', 'watched', '--approve', 'approve-switch'], { cwd })).code).toBe(0);
    const later = await t.waitFor(/watched +flag-switch +completed +4\/4/);
    expect(later.match(/^RUN /gm)).toHaveLength(1);
    await t.send('C-c');
    expect((await t.exit()).code).toBe(0);
  });
});

describe('migrate status --watch without a terminal', () => {
  it('prints a snapshot each interval, separated by a blank line, and exits once every run is over', async () => {
    const cwd = await workdir({ 'switch.yaml': flagSwitch, 'flags.json': flags });
    const url = await healthEndpoint();
    // About two seconds of probing (10 successes, 200ms apart) to watch.
    const slow = flagSwitch.replace('successes: 5', 'successes: 10');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(cwd, 'switch.yaml'), slow);
    const running = startCli(['run', 'switch.yaml', '-p', 'flag=orders-async', '-p', 'state=on', '-p', `url=${url}`, '--name', 'piped', '--yes'], { cwd });
    await eventually(async () => (await runStatus(cwd, 'piped')) === 'running');

    const watch = await runCli(['status', '--watch', '--interval', '300ms'], { cwd });
    expect(watch.code, watch.stderr).toBe(0);
    const snapshots = watch.stdout.trimEnd().split('\n\n');
    expect(snapshots.length).toBeGreaterThan(2);
    for (const s of snapshots) expect(s).toMatch(/^RUN +PLAYBOOK +STATUS +STEPS +ELAPSED +CURRENT +UPDATED\npiped +flag-switch +\w+ /);
    expect(snapshots[0]).toMatch(/piped +flag-switch +running +\d\/4 +\d+(ms|s) +● healthy/);
    expect(snapshots.at(-1)).toMatch(/piped +flag-switch +completed +4\/4 +\d+(ms|s) +—/);
    expect((await running.result).code).toBe(0);
  });
});
