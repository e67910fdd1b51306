import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { events, eventually, startCli, unique, workdir, type CliResult } from './cli.js';
import { startConsumer, startSource, writeFlags, type DemoService } from './demo-services.js';
import { kafkaBrokers } from './kafka.js';
import { addStrategy, createFeature, environment, switchEnvironment, unleashEnv } from './unleash-admin.js';
import { exerciseCompletedSchema } from './seed-schema.js';

/** One migration's world: a working directory with flags and schemas, and the two demo services. */
export interface World {
  cwd: string;
  topic: string;
  group: string;
  flag: string;
  producerFlag: string;
  flagsFile: string;
  source: DemoService;
  consumer?: DemoService;
  endpoint: string;
  /** Where the flags live: the flag file (default), or the Unleash the services tests run. */
  flagsIn: 'file' | 'unleash';
  /** What the demo services get in their environment (DEMO_UNLEASH_* when flags live in Unleash). */
  serviceEnv: Record<string, string>;
  /** The bootstrap servers the demo services use. */
  brokers: string[];
  stop(): Promise<void>;
}

export interface WorldOptions {
  /** Keep the two flags in Unleash (environment development) instead of the flag file. */
  flagsIn?: 'file' | 'unleash';
  /** The cluster the demo services use (default: the tests' broker). */
  brokers?: string[];
}

export async function makeWorld(kind: 'form' | 'func', flags: { async: boolean; producer: boolean }, o: WorldOptions = {}): Promise<World> {
  const topic = unique(`ex-${kind}`);
  const flag = `${topic}-async`;
  const producerFlag = `${flag}-producer`;
  const cwd = await workdir({ 'app.js': '// the consumer, after the migration: reads events only\n' });
  await mkdir(path.join(cwd, 'app'));
  await writeFile(path.join(cwd, 'app/client.js'), 'export const onEvent = (e) => e.payload;\n');
  await mkdir(path.join(cwd, 'schemas/ExerciseCompleted'), { recursive: true });
  await writeFile(path.join(cwd, 'schemas/ExerciseCompleted/0.json'), JSON.stringify(exerciseCompletedSchema, null, 2));
  const flagsFile = path.join(cwd, 'flags.json');
  const flagsIn = o.flagsIn ?? 'file';
  const brokers = o.brokers ?? kafkaBrokers();
  let serviceEnv: Record<string, string> = {};
  if (flagsIn === 'unleash') {
    const unleash = unleashEnv();
    for (const [key, on] of [[flag, flags.async], [producerFlag, flags.producer]] as const) {
      await createFeature(key);
      if (on) {
        await addStrategy(key, 'development', { name: 'flexibleRollout', parameters: { rollout: '100', stickiness: 'default', groupId: key } });
        await switchEnvironment(key, 'development', true);
      }
    }
    serviceEnv = { DEMO_UNLEASH_URL: unleash.url, DEMO_UNLEASH_TOKEN: unleash.clientToken };
  } else {
    await writeFlags(flagsFile, { [flag]: flags.async, [producerFlag]: flags.producer });
  }
  const source = await startSource({ brokers, topic: `datarep.${topic}`, flags: flagsFile, producerFlag, kind, rate: 40, env: serviceEnv });
  const world: World = {
    cwd,
    topic,
    group: `${topic}-consumers`,
    flag,
    producerFlag,
    flagsFile,
    source,
    endpoint: `${source.url}/api/v0/exercises`,
    flagsIn,
    serviceEnv,
    brokers,
    stop: async () => {
      await world.consumer?.stop();
      await source.stop();
    },
  };
  return world;
}

export function startConsumerOf(w: World, retireWhenDrained = false): Promise<DemoService> {
  return startConsumer({
    brokers: w.brokers,
    topic: `datarep.${w.topic}`,
    group: w.group,
    flags: w.flagsFile,
    flag: w.flag,
    producerFlag: w.producerFlag,
    source: w.source.url,
    retireWhenDrained,
    env: w.serviceEnv,
  });
}

/** The state of a run, read from its file. */
export async function runState(cwd: string, run: string): Promise<{ status: string; steps: { id: string; status: string }[] }> {
  return JSON.parse(await readFile(path.join(cwd, '.migrate', `${run}.json`), 'utf8')) as { status: string; steps: { id: string; status: string }[] };
}

/** Waits until the run's step is running. */
export function whenStepRuns(cwd: string, run: string, step: string, timeoutMs = 60_000): Promise<true> {
  return eventually(async () => (await runState(cwd, run)).steps.find((s) => s.id === step)?.status === 'running', timeoutMs);
}

/** Flag values as the flag file holds them now. */
export async function flagValues(file: string): Promise<Record<string, boolean>> {
  const doc = JSON.parse(await readFile(file, 'utf8')) as { flags: Record<string, { state: string; variants: Record<string, unknown>; defaultVariant: string }> };
  return Object.fromEntries(Object.entries(doc.flags).map(([k, f]) => [k, f.state === 'ENABLED' && f.variants[f.defaultVariant] === true]));
}

/** The world's two flags as its flag store holds them now (the file, or Unleash's development environment). */
export async function worldFlags(w: World): Promise<Record<string, boolean>> {
  if (w.flagsIn === 'file') return flagValues(w.flagsFile);
  const out: Record<string, boolean> = {};
  for (const key of [w.flag, w.producerFlag]) {
    const env = await environment(key, 'development');
    out[key] = env.enabled && env.strategies.some((st) => !st.disabled && (st.name !== 'flexibleRollout' || Number(st.parameters.rollout) > 0));
  }
  return out;
}

/** Steps applied across several runs' --json outputs: step id -> how many times. */
export function appliedCounts(outputs: CliResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of outputs.flatMap((o) => events(o.stdout))) if (e.type === 'step.applied') counts[e.step as string] = (counts[e.step as string] ?? 0) + 1;
  return counts;
}

export { startCli };
