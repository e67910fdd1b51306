// The Unleash flag provider and client evaluator against a real unleash-server on PostgreSQL
// (started by test/support/unleash-setup.ts).
import { describe, expect, it } from 'vitest';

import { freePorts } from '../../scripts/kafka-lib.mjs';
import type { FlagsConfig } from '../../src/config.js';
import { UnleashClientEvaluator, UnleashFlagProvider, UnleashRefusedError } from '../../src/adapters/flags-unleash.js';
import { isOn } from '../../src/adapters/flags.js';
import { TransientError, UsageError } from '../../src/errors.js';
import { flagStateText } from '../../src/steps/flag-check.js';
import { flagWatcher } from '../../demo/flags.mjs';
import { eventually, unique } from '../support/cli.js';
import { addStrategy, createFeature, environment, eventCount, feature, switchEnvironment, unleashEnv } from '../support/unleash-admin.js';

function config(o: { url?: string; token?: string; project?: string; environment?: string; clientToken?: string } = {}): FlagsConfig {
  const env = unleashEnv();
  const url = 'url' in o ? o.url : env.url;
  return {
    provider: 'unleash',
    file: '/nonexistent/flags.json',
    unleash: { url, project: o.project ?? 'default', environment: o.environment ?? 'development', token: 'token' in o ? o.token : env.adminToken },
    propagation: { via: 'unleash', url, token: 'clientToken' in o ? o.clientToken : env.clientToken },
  };
}

const provider = (o: Parameters<typeof config>[0] = {}) => UnleashFlagProvider.fromConfig(config(o));

/** The error a promise rejects with (fails the test if it resolves). */
async function failure(p: Promise<unknown>): Promise<Error & { hint?: string; exitCode?: number }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { hint?: string };
  }
  throw new Error('expected a rejection');
}

/** No message a user could see holds a token. */
function expectNoToken(err: { message: string; hint?: string | undefined }, ...tokens: string[]): void {
  for (const t of tokens) {
    expect(err.message).not.toContain(t);
    expect(err.hint ?? '').not.toContain(t);
    expect(err.message).not.toContain(t.slice(t.indexOf('.') + 1));
  }
}

describe('UnleashFlagProvider against a real Unleash', () => {
  it('does not know a flag that does not exist', async () => {
    expect(await provider().get(unique('missing'))).toBeUndefined();
  });

  it('creates a missing flag and switches it on in one environment, with a strategy that serves everyone', async () => {
    const key = unique('created');
    const p = provider();
    const result = await p.set(key, true);
    expect(result).toEqual({ previous: undefined, changed: true });

    const f = await feature(key);
    expect(f?.type).toBe('release');
    const dev = f?.environments.find((e) => e.name === 'development');
    expect(dev?.enabled).toBe(true);
    expect(dev?.strategies).toHaveLength(1);
    expect(dev?.strategies[0]).toMatchObject({ name: 'flexibleRollout', parameters: { rollout: '100' } });
    // The other environment is untouched: created off, and still off with no strategy.
    const prod = f?.environments.find((e) => e.name === 'production');
    expect(prod).toMatchObject({ enabled: false, strategies: [] });

    const state = await p.get(key);
    expect(state).toEqual({ key, enabled: true, value: true });
    expect(isOn(state)).toBe(true);
    expect(flagStateText(state!)).toBe('on');
  });

  it('switches off and on again, reporting what was there before, and writes nothing when already as asked', async () => {
    const key = unique('toggle');
    const p = provider();
    await p.set(key, true);

    const events = await eventCount(key);
    expect(await p.set(key, true)).toEqual({ previous: { key, enabled: true, value: true }, changed: false });
    expect(await eventCount(key)).toBe(events);

    expect(await p.set(key, false)).toEqual({ previous: { key, enabled: true, value: true }, changed: true });
    const dev = await environment(key, 'development');
    expect(dev.enabled).toBe(false);
    expect(dev.strategies).toHaveLength(1); // off is the environment's switch; the strategy stays
    const off = await p.get(key);
    expect(off).toEqual({ key, enabled: false, value: true });
    expect(isOn(off)).toBe(false);
    expect(flagStateText(off!)).toBe('off (disabled)');

    const afterOff = await eventCount(key);
    expect(await p.set(key, false)).toEqual({ previous: { key, enabled: false, value: true }, changed: false });
    expect(await eventCount(key)).toBe(afterOff);

    expect(await p.set(key, true)).toEqual({ previous: { key, enabled: false, value: true }, changed: true });
    expect((await environment(key, 'development')).strategies).toHaveLength(1); // reused, not added again
    expect(await environment(key, 'production')).toMatchObject({ enabled: false, strategies: [] });
  });

  it('creates a missing flag switched off when asked for off', async () => {
    const key = unique('created-off');
    expect(await provider().set(key, false)).toEqual({ previous: undefined, changed: true });
    expect(await environment(key, 'development')).toMatchObject({ enabled: false });
    expect(await provider().get(key)).toEqual({ key, enabled: false, value: false });
  });

  it('switching on an environment whose only strategy is disabled adds one that serves everyone', async () => {
    // Unleash switches an environment off itself when its last enabled strategy goes, so "enabled
    // with no strategy" cannot be set up through the API; a disabled strategy is the next thing.
    const key = unique('no-strategy');
    await createFeature(key);
    await addStrategy(key, 'development', { name: 'flexibleRollout', parameters: { rollout: '100', stickiness: 'default', groupId: key }, disabled: true });
    expect(await environment(key, 'development')).toMatchObject({ enabled: false, strategies: [{ disabled: true }] });

    const p = provider();
    expect(await p.get(key)).toEqual({ key, enabled: false, value: false });
    expect(await p.set(key, true)).toEqual({ previous: { key, enabled: false, value: false }, changed: true });
    const dev = await environment(key, 'development');
    expect(dev.enabled).toBe(true);
    expect(dev.strategies.map((s) => [s.name, s.parameters.rollout, s.disabled ?? false])).toEqual([
      ['flexibleRollout', '100', true],
      ['flexibleRollout', '100', false],
    ]);
    expect(isOn(await p.get(key))).toBe(true);
  });

  it('reads an enabled environment whose strategies serve nobody (0 % rollout, disabled) as off, and switching on adds one', async () => {
    const key = unique('nobody');
    await createFeature(key);
    await addStrategy(key, 'development', { name: 'flexibleRollout', parameters: { rollout: '0', stickiness: 'default', groupId: key } });
    await addStrategy(key, 'development', { name: 'default', disabled: true });
    await switchEnvironment(key, 'development', true);
    const p = provider();
    const state = await p.get(key);
    expect(state).toEqual({ key, enabled: true, value: false });
    expect(isOn(state)).toBe(false);
    expect(flagStateText(state!)).toBe('off');
    expect(await p.set(key, true)).toEqual({ previous: { key, enabled: true, value: false }, changed: true });
    const rollouts = (await environment(key, 'development')).strategies.filter((s) => !s.disabled).map((s) => s.parameters.rollout);
    expect(rollouts.sort()).toEqual(['0', '100']);
    expect(isOn(await p.get(key))).toBe(true);
  });

  it('switches the configured environment only: production, then development stays as it was', async () => {
    const key = unique('per-env');
    await provider({ environment: 'production' }).set(key, true);
    expect(await environment(key, 'production')).toMatchObject({ enabled: true });
    expect(await environment(key, 'development')).toMatchObject({ enabled: false, strategies: [] });
    expect(isOn(await provider({ environment: 'development' }).get(key))).toBe(false);
    expect(isOn(await provider({ environment: 'production' }).get(key))).toBe(true);
  });
});

describe('UnleashClientEvaluator: what SDKs are served', () => {
  it('sees a switch on and off in the configured environment, and not in the other one', async () => {
    const key = unique('served');
    const p = provider();
    const dev = UnleashClientEvaluator.fromConfig(config());
    expect(await dev.evaluate(key)).toBeUndefined();

    await p.set(key, true);
    let started = Date.now();
    await eventually(async () => (await dev.evaluate(key))?.value === true, 15_000);
    const onMs = Date.now() - started;

    await p.set(key, false);
    started = Date.now();
    await eventually(async () => (await dev.evaluate(key))?.value === false, 15_000);
    const offMs = Date.now() - started;
    // Not asserted (no timed assertions in tests): printed for the record.
    process.stderr.write(`[unleash] client API served the switch after ${onMs} ms (on) and ${offMs} ms (off)\n`);

    const productionToken = unleashEnv().productionClientToken;
    if (productionToken) {
      const prod = UnleashClientEvaluator.fromConfig(config({ environment: 'production', clientToken: productionToken }));
      expect(await prod.evaluate(key)).toEqual({ value: false });
    }
  });

  it('serves false for an enabled environment whose strategy serves nobody', async () => {
    const key = unique('served-nobody');
    await createFeature(key);
    await addStrategy(key, 'development', { name: 'flexibleRollout', parameters: { rollout: '0', stickiness: 'default', groupId: key } });
    await switchEnvironment(key, 'development', true);
    const dev = UnleashClientEvaluator.fromConfig(config());
    await eventually(async () => (await dev.evaluate(key)) !== undefined, 15_000);
    expect(await dev.evaluate(key)).toEqual({ value: false });
  });

  it('refuses a bad client token (401) without showing it', async () => {
    const bad = `*:development.${'0'.repeat(40)}`;
    const err = await failure(UnleashClientEvaluator.fromConfig(config({ clientToken: bad })).evaluate('any'));
    expect(err).toBeInstanceOf(UnleashRefusedError);
    expect(err.message).toBe(`Unleash at ${unleashEnv().url} refused the client token (401): set UNLEASH_CLIENT_TOKEN to a backend (client) API token`);
    expectNoToken(err, bad);
  });

  it('refuses, before any request, a client token scoped to another environment', () => {
    const token = unleashEnv().productionClientToken ?? `*:production.${'1'.repeat(40)}`;
    let err: UsageError | undefined;
    try {
      UnleashClientEvaluator.fromConfig(config({ clientToken: token }));
    } catch (e) {
      err = e as UsageError;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect(err?.message).toBe('UNLEASH_CLIENT_TOKEN is scoped to environment production, but flag.set switches environment development: set it to a client token for development');
    expectNoToken(err!, token);
  });

  it('needs UNLEASH_CLIENT_TOKEN', () => {
    expect(() => UnleashClientEvaluator.fromConfig(config({ clientToken: undefined }))).toThrow(/set UNLEASH_CLIENT_TOKEN$/);
  });
});

describe('UnleashFlagProvider: what it says when the server refuses', () => {
  it('a token Unleash does not know: 401, and the token is not in the message', async () => {
    const bad = `*:*.${'f'.repeat(48)}`;
    const err = await failure(provider({ token: bad }).get('any-flag'));
    expect(err).toBeInstanceOf(UnleashRefusedError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(`Unleash at ${unleashEnv().url} refused the token (401): set UNLEASH_API_TOKEN to an admin API token`);
    expectNoToken(err, bad);
  });

  it('a client token where an admin token is needed: 403, naming the project', async () => {
    const { clientToken } = unleashEnv();
    const err = await failure(provider({ token: clientToken }).set(unique('forbidden'), true));
    expect(err).toBeInstanceOf(UnleashRefusedError);
    expect(err.message).toMatch(/denied the token permission to read flag \S+ in project default \(403\): set UNLEASH_API_TOKEN to an admin API token/);
    expectNoToken(err, clientToken);
  });

  it('a project that does not exist: says it is the project, and lists the ones there are', async () => {
    const err = await failure(provider({ project: 'no-such-project' }).get('any-flag'));
    expect(err).toBeInstanceOf(UnleashRefusedError);
    expect(err.message).toBe(`Unleash at ${unleashEnv().url} has no project no-such-project (404): set flags.unleash.project in migrate.config.yaml or UNLEASH_PROJECT to one of: default`);
  });

  it('an environment that does not exist: says it is the environment, for an existing flag and a missing one', async () => {
    const key = unique('env-missing');
    await createFeature(key);
    for (const flag of [key, unique('env-missing-flag')]) {
      const err = await failure(provider({ environment: 'staging' }).get(flag));
      expect(err).toBeInstanceOf(UnleashRefusedError);
      expect(err.message).toBe(
        `Unleash at ${unleashEnv().url} has no environment staging (404): set flags.unleash.environment in migrate.config.yaml or UNLEASH_ENVIRONMENT to one of: development, production`,
      );
    }
  });

  it('never creates a flag in an environment that does not exist', async () => {
    const key = unique('not-created');
    const err = await failure(provider({ environment: 'staging' }).set(key, true));
    expect(err.message).toMatch(/has no environment staging/);
    expect(await feature(key)).toBeUndefined();
  });

  it('a server that is not there: a TransientError the engine retries', async () => {
    const [port] = await freePorts(1);
    const err = await failure(provider({ url: `http://127.0.0.1:${port}` }).get('any-flag'));
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toBe(`connection refused by 127.0.0.1:${port}`);
  });

  it('no URL or no token: a UsageError naming the variable to set', () => {
    expect(() => provider({ url: undefined })).toThrow(UsageError);
    expect(() => provider({ url: undefined })).toThrow(/set UNLEASH_URL or flags\.unleash\.url/);
    expect(() => provider({ token: undefined })).toThrow(/set UNLEASH_API_TOKEN$/);
  });
});

describe('the demo services in Unleash mode (demo/flags.mjs)', () => {
  it('flagWatcher polls the client API and sees the switch both ways; the flag file is not read', async () => {
    const key = unique('demo');
    const { url, clientToken } = unleashEnv();
    const changes: [string, boolean][] = [];
    const watcher = flagWatcher('/nonexistent/flags.json', [key], (k, on) => changes.push([k, on]), { DEMO_UNLEASH_URL: url, DEMO_UNLEASH_TOKEN: clientToken });
    await watcher.start();
    try {
      expect(watcher.values[key]).toBe(false);
      await provider().set(key, true);
      await eventually(async () => watcher.values[key] === true, 15_000);
      await provider().set(key, false);
      await eventually(async () => watcher.values[key] === false, 15_000);
      expect(changes).toEqual([
        [key, true],
        [key, false],
      ]);
    } finally {
      watcher.stop();
    }
  });
});
