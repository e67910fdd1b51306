import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { stepTypes } from '../../src/steps/index.js';
import { loadConfig } from '../../src/config.js';
import type { RunEvent } from '../../src/engine/events.js';
import { previewRollback, rollbackRun, type RollbackOptions, type RollbackPreview } from '../../src/engine/rollback.js';
import { runPlaybook } from '../../src/engine/run-playbook.js';
import { PlaybookChangedError, RunLockedError, RunNotFoundError, UsageError } from '../../src/errors.js';
import { bindPlaybook } from '../../src/playbook/bind.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { FileRunStore } from '../../src/state/file-store.js';
import type { RunState } from '../../src/state/run-state.js';
import { paint } from '../../src/ui/paint.js';
import { createRenderer } from '../../src/ui/render.js';
import { renderRollbackPreview } from '../../src/ui/rollback-view.js';

// Flags live in a real flag file and state in a real file store: rollback is exercised end to end
// without a broker (the playbook has no Kafka step).
const switches = `name: switches
params:
  flag: { required: true }
steps:
  - id: producer-on
    uses: flag.set
    with: { key: "\${{ params.flag }}-producer", on: true }
  - id: producer-is-on
    uses: flag.check
    with: { key: "\${{ params.flag }}-producer", expect: on }
  - id: approve-switch
    uses: confirm
    with: { message: Switch? }
  - id: switch
    uses: flag.set
    with: { key: "\${{ params.flag }}", on: true }
  - id: new-flag
    uses: flag.set
    with: { key: "\${{ params.flag }}-new", on: true }
`;

const flagd = (flags: Record<string, 'on' | 'off'>) =>
  JSON.stringify({ flags: Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: v }])) }, null, 2);

async function flagValues(file: string): Promise<Record<string, string>> {
  const doc = JSON.parse(await readFile(file, 'utf8')) as { flags: Record<string, { defaultVariant: string }> };
  return Object.fromEntries(Object.entries(doc.flags).map(([k, f]) => [k, f.defaultVariant]));
}

/** A completed run of the switches playbook in a fresh directory: both flags were off, a third did not exist. */
async function completedRun() {
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'migrate-rollback-'));
  await writeFile(path.join(cwd, 'switches.yaml'), switches);
  const flagsFile = path.join(cwd, 'flags.json');
  await writeFile(flagsFile, flagd({ 'f-producer': 'off', f: 'off' }));
  const config = await loadConfig({ cwd, env: {} });
  const store = new FileRunStore(config.stateDir);
  const run = await runPlaybook({
    playbook: 'switches.yaml',
    stepTypes,
    cwd,
    config,
    store,
    params: { flag: 'f' },
    yes: true,
    emit: () => undefined,
    signal: new AbortController().signal,
    env: {},
  });
  expect(run.outcome.status).toBe('completed');
  expect(await flagValues(flagsFile)).toEqual({ 'f-producer': 'on', f: 'on', 'f-new': 'on' });
  const events: RunEvent[] = [];
  const asked: RollbackPreview[] = [];
  const rollback = (extra: Partial<RollbackOptions> = {}) =>
    rollbackRun({
      run: run.run,
      stepTypes,
      cwd,
      config,
      store,
      emit: (e) => events.push(e),
      signal: new AbortController().signal,
      confirm: async (p) => (asked.push(p), true),
      env: {},
      ...extra,
    });
  return { cwd, flagsFile, store, name: run.run, events, asked, rollback, read: async () => (await store.read(run.run)) as RunState };
}

describe('rollback', () => {
  it('a run with a secret param: given again with --param (the state keeps it masked); a stored param cannot be changed', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'migrate-rollback-secret-'));
    await writeFile(
      path.join(cwd, 'secret.yaml'),
      'name: secret\nparams:\n  flag: { required: true }\n  token: { required: true, secret: true }\nsteps:\n  - id: switch\n    uses: flag.set\n    with: { key: "${{ params.flag }}", on: true }\n',
    );
    const flagsFile = path.join(cwd, 'flags.json');
    await writeFile(flagsFile, flagd({ g: 'off' }));
    const config = await loadConfig({ cwd, env: {} });
    const store = new FileRunStore(config.stateDir);
    const signal = new AbortController().signal;
    const run = await runPlaybook({ playbook: 'secret.yaml', stepTypes, cwd, config, store, params: { flag: 'g', token: 's3cret-value' }, yes: true, emit: () => undefined, signal, env: {} });
    expect(run.outcome.status).toBe('completed');
    const rollback = (params?: Record<string, string>) =>
      rollbackRun({ run: run.run, stepTypes, cwd, config, store, emit: () => undefined, signal, confirm: async () => true, env: {}, ...(params ? { params } : {}) });

    await expect(rollback()).rejects.toThrow(/was started with secret param token, which its state does not keep/);
    await expect(rollback({ token: 's3cret-value', flag: 'other' })).rejects.toThrow(/--param flag: run .* was started with another value/);
    await expect(rollback({ token: 's3cret-value', nope: '1' })).rejects.toThrow(/--param nope: run .* has no param "nope"/);
    expect(await flagValues(flagsFile)).toEqual({ g: 'on' }); // nothing was undone by the refusals

    expect((await rollback({ token: 's3cret-value' })).outcome.status).toBe('rolled-back');
    expect(await flagValues(flagsFile)).toEqual({ g: 'off' });
    expect(await readFile(path.join(config.stateDir, `${run.run}.json`), 'utf8')).not.toContain('s3cret-value');
  });

  it('undoes the run newest step first with what it recorded, and marks it rolled-back', async () => {
    const r = await completedRun();
    const result = await r.rollback();
    expect(result.outcome).toEqual({ status: 'rolled-back' });
    // The flag file is back as it was: a flag that did not exist is off (the provider cannot delete it).
    expect(await flagValues(r.flagsFile)).toEqual({ 'f-producer': 'off', f: 'off', 'f-new': 'off' });
    expect(r.asked).toHaveLength(1);
    expect(r.asked[0]?.steps.map((s) => [s.id, s.action])).toEqual([
      ['new-flag', 'undo'],
      ['switch', 'undo'],
      ['approve-switch', 'reset'],
      ['producer-is-on', 'reset'],
      ['producer-on', 'undo'],
    ]);
    expect(r.events.filter((e) => e.type === 'step.undone').map((e) => e.step)).toEqual(['new-flag', 'switch', 'approve-switch', 'producer-is-on', 'producer-on']);
    expect(r.events.find((e) => e.type === 'step.undone' && e.step === 'switch')).toMatchObject({
      summary: 'undone: switch flag f on',
      outputs: { key: 'f', on: true, previous: { enabled: true, value: false } },
    });
    const state = await r.read();
    expect(state.status).toBe('rolled-back');
    expect(state.steps.map((s) => s.status)).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
    expect(state.steps.find((s) => s.id === 'approve-switch')?.approval).toBeUndefined();
    // The audit trail keeps what was done and what undid it.
    expect(state.history.map((h) => h.type)).toEqual(expect.arrayContaining(['step.applied', 'rollback.started', 'step.undone', 'rollback.finished']));
    expect(state.history.filter((h) => h.type === 'step.undone').map((h) => h.step)).toHaveLength(5);
  });

  it('stops at --to, and a second rollback continues from there; once done, running it again changes nothing', async () => {
    const r = await completedRun();
    expect((await r.rollback({ to: 'switch' })).outcome.status).toBe('rolled-back');
    expect(await flagValues(r.flagsFile)).toEqual({ 'f-producer': 'on', f: 'off', 'f-new': 'off' });
    expect((await r.read()).steps.map((s) => s.status)).toEqual(['done', 'done', 'done', 'pending', 'pending']);

    expect((await r.rollback()).outcome.status).toBe('rolled-back');
    expect(await flagValues(r.flagsFile)).toEqual({ 'f-producer': 'off', f: 'off', 'f-new': 'off' });
    const after = await readFile(r.flagsFile, 'utf8');

    r.asked.length = 0;
    const again = await r.rollback();
    expect(again.outcome.status).toBe('rolled-back');
    expect(again.preview.steps).toEqual([]);
    expect(r.asked).toEqual([]); // nothing to undo: nobody is asked
    expect(await readFile(r.flagsFile, 'utf8')).toBe(after);
  });

  it('changes nothing when not confirmed', async () => {
    const r = await completedRun();
    const before = await r.read();
    const result = await r.rollback({ confirm: async () => false });
    expect(result.outcome).toEqual({ status: 'unconfirmed' });
    expect(await flagValues(r.flagsFile)).toEqual({ 'f-producer': 'on', f: 'on', 'f-new': 'on' });
    expect(await r.read()).toEqual(before);
  });

  it('keeps the state when an undo fails, and continues where it stopped once the cause is fixed', async () => {
    const r = await completedRun();
    const good = await readFile(r.flagsFile, 'utf8');
    await writeFile(r.flagsFile, '{ "flags": ');
    const failed = await r.rollback();
    expect(failed.outcome).toMatchObject({ status: 'failed', step: 'new-flag' });
    const state = await r.read();
    expect(state.status).toBe('failed');
    expect(state.steps.find((s) => s.id === 'new-flag')).toMatchObject({ status: 'done', error: { message: expect.stringContaining('undo failed: ') } });
    expect(r.events.some((e) => e.type === 'step.undo-failed')).toBe(true);

    await writeFile(r.flagsFile, good);
    expect((await r.rollback()).outcome.status).toBe('rolled-back');
    expect(await flagValues(r.flagsFile)).toEqual({ 'f-producer': 'off', f: 'off', 'f-new': 'off' });
    expect((await r.read()).steps.find((s) => s.id === 'new-flag')?.error).toBeUndefined();
  });

  it('refuses bad input before touching anything: unknown run, unknown --to step, a changed playbook (unless allowed), a held lock', async () => {
    const r = await completedRun();
    await expect(r.rollback({ run: 'no-such-run' })).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(r.rollback({ to: 'nope' })).rejects.toBeInstanceOf(UsageError);

    await writeFile(path.join(r.cwd, 'switches.yaml'), switches.replace('Switch?', 'Switch now?'));
    await expect(r.rollback()).rejects.toBeInstanceOf(PlaybookChangedError);
    await writeFile(path.join(r.cwd, 'switches.yaml'), switches);

    const lock = await r.store.lock(r.name);
    try {
      await expect(r.rollback()).rejects.toBeInstanceOf(RunLockedError);
    } finally {
      await lock.release();
    }
    expect(await flagValues(r.flagsFile)).toEqual({ 'f-producer': 'on', f: 'on', 'f-new': 'on' });
    expect((await r.rollback({ allowChanged: true })).outcome.status).toBe('rolled-back');
  });
});

describe('previewRollback', () => {
  const text = `name: topic-and-flag
steps:
  - id: create-topic
    uses: kafka.topic
    with: { name: datarep.orders, partitions: 3 }
  - id: switch
    uses: flag.set
    with: { key: orders-async, on: true }
  - id: events-flow
    uses: kafka.drain
    with: { topic: datarep.orders, group: g }
`;
  const bound = bindPlaybook(parsePlaybook('topic-and-flag.yaml', text), {}, {});
  const state = (statuses: string[], history: RunState['history'] = []): RunState => ({
    version: 1,
    name: 'r',
    playbook: { name: 'topic-and-flag', ref: 'topic-and-flag.yaml', file: 'topic-and-flag.yaml', checksum: bound.loaded.checksum },
    params: {},
    paramsChecksum: 'x',
    status: 'completed',
    createdAt: '',
    updatedAt: '',
    steps: bound.steps.map((s, i) => ({ id: s.spec.id, uses: s.spec.uses, status: statuses[i] as RunState['steps'][number]['status'], attempts: 1 })),
    history,
  });

  it('says plainly what cannot be undone, and skips steps that never ran', () => {
    const preview = previewRollback(state(['done', 'done', 'pending']), bound);
    expect(preview.steps).toEqual([
      { id: 'switch', uses: 'flag.set', title: 'switch', status: 'done', action: 'undo', reason: 'put back what this did: switch flag orders-async on', done: 'undone: switch flag orders-async on' },
      {
        id: 'create-topic',
        uses: 'kafka.topic',
        title: 'create-topic',
        status: 'done',
        action: 'not-undoable',
        reason: 'kafka.topic: the topic and its data are kept; delete it by hand if you mean to',
      },
    ]);
    expect(renderRollbackPreview(preview, paint(false))).toBe(
      [
        'Roll back run r (playbook topic-and-flag)',
        '  undo         switch        put back what this did: switch flag orders-async on',
        '  cannot undo  create-topic  kafka.topic: the topic and its data are kept; delete it by hand if you mean to',
        '',
      ].join('\n'),
    );
  });

  it('says why a step cannot be undone in the words of its type, or plainly when the type gives none', () => {
    const withType = (irreversible: string | undefined) => ({
      ...bound,
      steps: bound.steps.map((s) => (s.spec.id === 'create-topic' ? { ...s, type: { ...s.type, irreversible } } : s)),
    });
    const reasons = (b: typeof bound) => previewRollback(state(['done', 'pending', 'pending']), b).steps.map((s) => [s.id, s.action, s.reason]);
    expect(reasons(withType('the lake stays filled; drain it by hand'))).toEqual([['create-topic', 'not-undoable', 'kafka.topic: the lake stays filled; drain it by hand']]);
    expect(reasons(withType(undefined))).toEqual([['create-topic', 'not-undoable', 'kafka.topic: it has no undo; what it changed is kept']]);
  });

  it('does not claim to undo a step that found the world as declared, nor one that did not finish', () => {
    const found = previewRollback(state(['failed', 'done', 'done'], [{ at: '', type: 'step.done', step: 'switch', detail: { alreadyDone: true } }]), bound);
    expect(found.steps.map((s) => [s.id, s.action, s.reason])).toEqual([
      ['events-flow', 'reset', 'it only looked at the world: nothing to undo'],
      ['switch', 'undo', 'it found the world as declared and changed nothing, so nothing is put back (switch flag orders-async on)'],
      [
        'create-topic',
        'not-undoable',
        'kafka.topic: it did not finish (failed), so what it may have changed was not recorded; check by hand: topic datarep.orders (3 partitions, replication 1)',
      ],
    ]);
    expect(previewRollback(state(['done', 'done', 'done']), bound, 'switch').steps.map((s) => s.id)).toEqual(['events-flow', 'switch']);
  });
});

describe('the line renderer', () => {
  it('prints skips, undos, what cannot be undone, and how a rollback ended', async () => {
    let out = '';
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => ((out += chunk.toString()), done()) });
    const renderer = createRenderer({ json: false, color: false, out: sink });
    const run = 'r';
    const feed: RunEvent[] = [
      { type: 'step.skipped', run, step: 'probe', by: 'ann@host', reason: 'endpoint down for maintenance' },
      { type: 'rollback.started', run, playbook: 'p', to: 'switch', by: 'ann@host' },
      { type: 'step.undone', run, step: 'switch', summary: 'undone: switch flag f on' },
      { type: 'step.not-undoable', run, step: 'create-topic', reason: 'kafka.topic: the topic and its data are kept; delete it by hand if you mean to' },
      { type: 'step.undo-failed', run, step: 'producer-on', error: 'flag file is not valid JSON', causes: ['unexpected end'] },
      { type: 'rollback.finished', run, status: 'failed', undone: 1, notUndoable: 1, step: 'producer-on', durationMs: 12 },
    ];
    for (const e of feed) renderer.event(e);
    expect(out.split('\n')).toEqual([
      '↷ probe  skipped: endpoint down for maintenance (by ann@host)',
      'Rolling back run r (playbook p, down to step switch)',
      '↶ switch  undone: switch flag f on',
      '! create-topic  cannot be undone: kafka.topic: the topic and its data are kept; delete it by hand if you mean to',
      '✗ producer-on  undo failed: flag file is not valid JSON',
      '    caused by: unexpected end',
      'Rollback of run r failed at step producer-on; fix the cause and run the same command again to continue',
      '',
    ]);
  });
});
