import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { planSteps } from '../../src/engine/plan.js';
import type { Services } from '../../src/engine/services.js';
import { DriftError, TransientError } from '../../src/errors.js';
import type { BoundPlaybook } from '../../src/playbook/bind.js';
import type { Check, StepType } from '../../src/steps/contract.js';
import { confirmStep } from '../../src/steps/confirm.js';
import { httpProbeStep } from '../../src/steps/http-probe.js';
import { kafkaQuietStep } from '../../src/steps/kafka-quiet.js';
import { kafkaVerifyStep } from '../../src/steps/kafka-verify.js';
import { paint } from '../../src/ui/paint.js';
import { planJson, renderPlan } from '../../src/ui/plan-view.js';
import { boundPlaybook, type TestStep } from '../support/bound-playbook.js';

/** A fake world, and a log of every call a step made into it. */
class World {
  readonly has = new Map<string, Record<string, unknown>>();
  readonly calls: string[] = [];
}

function thing(world: World, type = 'test.thing'): StepType<{ name: string }> {
  return {
    type,
    params: z.object({ name: z.string() }),
    timeoutMs: 1000,
    intervalMs: 5,
    describe: (p) => `thing ${p.name} exists`,
    async check(p): Promise<Check> {
      world.calls.push(`check ${p.name}`);
      if (p.name === 'drifted') throw new DriftError(`thing ${p.name}`, ['size: declared 3, found 5', 'colour: declared red, found blue']);
      if (p.name === 'broken') throw new TransientError('cannot reach the thing service: connection refused');
      if (p.name === 'slow') return new Promise(() => undefined);
      const outputs = world.has.get(p.name);
      return outputs ? { done: true, summary: `thing ${p.name} exists`, outputs } : { done: false, summary: `thing ${p.name} does not exist` };
    },
    async apply(p) {
      world.calls.push(`apply ${p.name}`);
    },
    async undo(p) {
      world.calls.push(`undo ${p.name}`);
    },
  };
}

function waitFor(world: World, type = 'test.wait'): StepType<{ name: string }> {
  return {
    type,
    params: z.object({ name: z.string() }),
    timeoutMs: 1000,
    intervalMs: 5,
    describe: (p) => `wait for ${p.name}`,
    async check(p): Promise<Check> {
      world.calls.push(`check ${p.name}`);
      return world.has.has(p.name) ? { done: true, summary: `${p.name} is there` } : { done: false, summary: `${p.name} is not there yet` };
    },
  };
}

/** The steps with the params of a run: a topic, and a token marked secret. */
const playbook = (steps: readonly TestStep[]): BoundPlaybook => boundPlaybook(steps, { params: { topic: 'orders', token: 's3cret' }, secret: ['token'] });

const services: Services = {
  cwd: '/nowhere',
  kafka: () => Promise.reject(new Error('no kafka in unit tests')),
  flags: () => Promise.reject(new Error('no flags in unit tests')),
  schemas: () => Promise.reject(new Error('no schemas in unit tests')),
};

const plan = (bound: BoundPlaybook, timeoutMs = 1000) => planSteps(bound, services, new AbortController().signal, timeoutMs);

describe('planSteps', () => {
  it('classifies each step from one check, and never applies or undoes anything', async () => {
    const world = new World();
    world.has.set('a', { id: 7 });
    const t = thing(world);
    const w = waitFor(world);
    const result = await plan(
      playbook([
        { id: 'have-a', type: t, params: { name: 'a' } },
        { id: 'make-b', type: t, params: { name: 'b' } },
        { id: 'drifted', type: t, params: { name: 'drifted' } },
        { id: 'broken', type: t, params: { name: 'broken' } },
        { id: 'gate', type: confirmStep, params: { message: 'Go?' } },
        { id: 'wait-c', type: w, params: { name: 'c' } },
      ]),
    );
    expect(world.calls).toEqual(['check a', 'check b', 'check drifted', 'check broken', 'check c']);
    expect(result.params).toEqual({ topic: 'orders', token: '***' });
    expect(result.steps.map((s) => [s.id, s.verdict])).toEqual([
      ['have-a', 'satisfied'],
      ['make-b', 'would act'],
      ['drifted', 'drift'],
      ['broken', 'cannot check'],
      ['gate', 'cannot check'],
      ['wait-c', 'would wait'],
    ]);
    const [a, b, drifted, broken, gate, c] = result.steps;
    expect(a?.reason).toBe('thing a exists');
    expect(b?.reason).toBe('thing b does not exist; would apply: thing b exists');
    expect(b?.after).toBeUndefined(); // a step that acts makes its own world
    expect(drifted?.differences).toEqual(['size: declared 3, found 5', 'colour: declared red, found blue']);
    expect(drifted?.reason).toContain('thing drifted differs from the playbook');
    expect(broken?.reason).toBe('cannot reach the thing service: connection refused');
    expect(broken?.after).toEqual(['make-b', 'drifted']);
    expect(gate?.reason).toContain('--approve gate');
    expect(gate?.after).toBeUndefined();
    expect(c?.reason).toBe('c is not there yet');
    expect(c?.after).toEqual(['make-b', 'drifted', 'broken', 'gate']);
  });

  it('feeds outputs of satisfied steps to the steps that read them; says which output is missing otherwise', async () => {
    const world = new World();
    world.has.set('a', { next: 'b' });
    world.has.set('b', {});
    const t = thing(world);
    const result = await plan(
      playbook([
        { id: 'first', type: t, params: { name: 'a' } },
        { id: 'reads-first', type: t, with: { name: '${{ steps.first.outputs.next }}' } },
        { id: 'missing', type: t, params: { name: 'x' } },
        { id: 'reads-missing', type: t, with: { name: '${{ steps.missing.outputs.next }}' } },
      ]),
    );
    expect(result.steps.map((s) => s.verdict)).toEqual(['satisfied', 'satisfied', 'would act', 'cannot check']);
    expect(result.steps[3]?.reason).toBe('its params read ${{ steps.missing.outputs.next }}, an output of an earlier step that has not run');
    expect(world.calls).toEqual(['check a', 'check b', 'check x']);
  });

  it('does not check kafka.verify (it would start reading), and labels one-look waits honestly', async () => {
    const world = new World();
    // Fakes of the two types, carrying what those types tell plan about themselves.
    const verify: StepType<{ name: string }> = { ...thing(world, 'kafka.verify'), plan: { judgedOverTime: kafkaVerifyStep.plan?.judgedOverTime } };
    const quiet: StepType<{ name: string }> = { ...waitFor(world, 'kafka.quiet'), plan: { judgedOverTime: kafkaQuietStep.plan?.judgedOverTime } };
    const result = await plan(
      playbook([
        { id: 'events-flow', type: verify, params: { name: 'events' } },
        { id: 'quiet', type: quiet, params: { name: 'silence' } },
      ]),
    );
    expect(world.calls).toEqual(['check silence']);
    expect(result.steps[0]).toMatchObject({ verdict: 'cannot check', reason: expect.stringContaining('only a run waiting on it can judge it; it will check: thing events exists') });
    expect(result.steps[1]).toMatchObject({ verdict: 'would wait', reason: 'silence is not there yet; the quiet period is measured while a run waits on the step' });
  });

  it('takes what it must know of a type from the type itself, whatever its name', async () => {
    const world = new World();
    const counts: StepType<{ name: string }> = { ...thing(world, 'test.counter'), plan: { judgedOverTime: { look: false, why: 'it counts what comes after it starts' } } };
    const poster: StepType<{ name: string }> = { ...thing(world, 'test.poster'), plan: { unsafeLook: (p) => (p.name === 'post' ? 'it would post something' : undefined) } };
    const settles: StepType<{ name: string }> = { ...waitFor(world, 'test.settles'), plan: { judgedOverTime: { look: true, why: 'it must hold for a while, while a run waits' } } };
    const result = await plan(
      playbook([
        { id: 'counter', type: counts, params: { name: 'c' } },
        { id: 'post', type: poster, params: { name: 'post' } },
        { id: 'get', type: poster, params: { name: 'get' } },
        { id: 'settles', type: settles, params: { name: 's' } },
        { id: 'probe', type: httpProbeStep, params: httpProbeStep.params.parse({ url: 'http://127.0.0.1:9/orders', method: 'post' }) },
      ]),
    );
    expect(world.calls).toEqual(['check get', 'check s']);
    expect(result.steps.map((s) => [s.id, s.verdict, s.reason])).toEqual([
      ['counter', 'cannot check', 'it counts what comes after it starts; it will check: thing c exists'],
      ['post', 'cannot check', 'it would post something'],
      ['get', 'would act', 'thing get does not exist; would apply: thing get exists'],
      ['settles', 'would wait', 's is not there yet; it must hold for a while, while a run waits'],
      ['probe', 'cannot check', 'it sends POST requests, which may change the world; plan only sends GET, HEAD and OPTIONS'],
    ]);
  });

  it('gives up on a check that does not answer in time', async () => {
    const world = new World();
    const result = await plan(playbook([{ id: 'slow', type: thing(world), params: { name: 'slow' } }]), 50);
    expect(result.steps[0]).toMatchObject({ verdict: 'cannot check', reason: 'no answer within 50ms' });
  });

  it('stops when interrupted, saying so', async () => {
    const world = new World();
    const controller = new AbortController();
    controller.abort(new Error('interrupted by SIGINT'));
    const result = await planSteps(playbook([{ id: 'a', type: thing(world), params: { name: 'a' } }]), services, controller.signal, 1000);
    expect(result).toMatchObject({ interrupted: true, steps: [] });
    expect(world.calls).toEqual([]);
  });
});

describe('plan view', () => {
  it('prints a table with one row per step and each drift difference on its own line; --json one object', async () => {
    const world = new World();
    world.has.set('a', {});
    const t = thing(world);
    const result = await plan(
      playbook([
        { id: 'have-a', type: t, params: { name: 'a' } },
        { id: 'drifted', type: t, params: { name: 'drifted' } },
        { id: 'wait-c', type: waitFor(world), params: { name: 'c' } },
      ]),
    );
    const text = renderPlan(result, paint(false));
    expect(text.split('\n')).toEqual([
      'Plan for playbook test (live checks; nothing is changed)',
      'params: topic=orders token=***',
      '',
      'STEP     TYPE        VERDICT     WHY',
      'have-a   test.thing  satisfied   thing a exists',
      'drifted  test.thing  drift       thing drifted differs from the playbook:',
      '                                 - size: declared 3, found 5',
      '                                 - colour: declared red, found blue',
      'wait-c   test.wait   would wait  c is not there yet (judged before drifted ran)',
      '',
      '3 steps: 1 satisfied, 1 would wait, 1 drift. Nothing was changed.',
      '',
    ]);
    expect(planJson(result)).toEqual({
      playbook: 'test',
      params: { topic: 'orders', token: '***' },
      steps: [
        { id: 'have-a', uses: 'test.thing', title: 'have-a', verdict: 'satisfied', reason: 'thing a exists' },
        {
          id: 'drifted',
          uses: 'test.thing',
          title: 'drifted',
          verdict: 'drift',
          reason: 'thing drifted differs from the playbook: size: declared 3, found 5; colour: declared red, found blue',
          differences: ['size: declared 3, found 5', 'colour: declared red, found blue'],
        },
        { id: 'wait-c', uses: 'test.wait', title: 'wait-c', verdict: 'would wait', reason: 'c is not there yet', after: ['drifted'] },
      ],
    });
  });
});
