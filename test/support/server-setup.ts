// What every vitest globalSetup that starts a real server does (test/support/*-setup.ts): start it
// in a fresh temp dir, take it down with this process if the teardown never runs (servers run
// detached, in their own process groups), export its address for the test workers and the CLIs
// they spawn, and at teardown stop it, unset what was exported and remove the dir.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface StartedServer {
  stop(): Promise<void>;
}

export async function startServerForTests<S extends StartedServer>(o: {
  /** Temp dir prefix, e.g. "migrate-kafka-test-". */
  prefix: string;
  start(dataDir: string): Promise<S>;
  /** The process groups to SIGKILL if this process exits without the teardown. */
  pids(server: S): number[];
  /** Variables to set in process.env (and delete at teardown). */
  env(server: S, dataDir: string): Promise<Record<string, string>> | Record<string, string>;
}): Promise<{ server: S; teardown: () => Promise<void> }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), o.prefix));
  let server: S;
  try {
    server = await o.start(dataDir);
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const killOnExit = (): void => {
    for (const pid of o.pids(server)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killOnExit);
  const exported = await o.env(server, dataDir);
  Object.assign(process.env, exported);
  const teardown = async (): Promise<void> => {
    try {
      await server.stop();
    } finally {
      process.removeListener('exit', killOnExit);
      for (const name of Object.keys(exported)) delete process.env[name];
      await rm(dataDir, { recursive: true, force: true });
    }
  };
  return { server, teardown };
}
