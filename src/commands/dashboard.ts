import { isIP } from 'node:net';
import type { Writable } from 'node:stream';
import { loadConfig } from '../config.js';
import { whoAmI } from '../engine/history.js';
import { ExitCode, UsageError } from '../errors.js';
import { startDashboard } from '../dashboard/server.js';
import { describeRunStore, openRunStore } from '../state/open-store.js';
import { paint } from '../ui/paint.js';
import { parseDuration } from '../util/time.js';
import type { CommonOptions, FlagsOf, Interruptible } from './options.js';

/** Options of `migrate dashboard`. */
export interface DashboardCommandOptions extends CommonOptions, Interruptible, FlagsOf<'dashboard'> {
  /** The warning about a non-loopback address; process.stderr by default. */
  err?: Writable;
}

/** `migrate dashboard`: serves the runs as a live web page until Ctrl-C. Returns the exit code. */
export async function dashboardCommand(o: DashboardCommandOptions): Promise<number> {
  const port = Number(o.port);
  if (!/^\d+$/.test(o.port) || port > 65535) throw new UsageError(`--port ${o.port}: expected a port number (0 picks a free one)`);
  const intervalMs = parseDuration(o.interval);
  if (intervalMs === undefined || intervalMs < 100) throw new UsageError(`--interval ${o.interval}: expected a duration of at least 100ms (examples: 500ms, 2s)`);
  const config = await loadConfig({ cwd: o.cwd, configPath: o.config, stateDir: o.stateDir });
  const store = openRunStore(config);
  const c = paint(o.color);
  const dashboard = await startDashboard({ store, host: o.host, port, intervalMs, by: whoAmI() }).catch((err: unknown) => {
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE') throw new UsageError(`--port ${port}: the port is in use`, 'leave --port out to pick a free one');
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UsageError(`--host ${o.host}: no such address on this machine`);
    throw err;
  });
  const loopback = isLoopback(o.host);
  o.out.write(`${c.bold('migrate dashboard')} ${dashboard.url}\n`);
  o.out.write(c.dim(`runs of ${describeRunStore(config)}, looked at every ${o.interval}; the address holds the token that approving and skipping need: share it only with those who may. Ctrl-C to stop.\n`));
  if (loopback) o.out.write(c.dim(`bound to ${o.host}: only this machine can open it (--host to bind elsewhere)\n`));
  else (o.err ?? process.stderr).write(c.yellow(`warning: bound to ${o.host}: the dashboard is reachable from the network, over plain HTTP (the token travels unencrypted)\n`));
  await new Promise<void>((resolve) => (o.signal.aborted ? resolve() : o.signal.addEventListener('abort', () => resolve(), { once: true })));
  await dashboard.close();
  return ExitCode.completed;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}
