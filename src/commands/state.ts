import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { loadConfig, type Config } from '../config.js';
import { ExitCode, MigrateError, RunNotFoundError, UsageError } from '../errors.js';
import { describeRunStore, openRunStore } from '../state/open-store.js';
import { parseRunState, type RunState } from '../state/run-state.js';
import type { RunLock, RunStore } from '../state/store.js';
import { writeFileAtomic } from '../util/fs.js';

/** Options shared by `migrate state export` and `migrate state import`. */
export interface StateCommandOptions {
  cwd: string;
  stateDir?: string | undefined;
  config?: string | undefined;
  /** Replace a copy at the destination even when it was updated later than the one being moved. */
  force: boolean;
  json: boolean;
  out: Writable;
}

/** `migrate state export RUN (--to file|kafka | --out FILE)`. */
export interface StateExportOptions extends StateCommandOptions {
  to?: 'file' | 'kafka' | undefined;
  /** --out FILE: a JSON file instead of a store. */
  file?: string | undefined;
}

/** `migrate state import FILE | RUN --from file|kafka`. */
export interface StateImportOptions extends StateCommandOptions {
  from?: 'file' | 'kafka' | undefined;
}

/** One end of a copy: a run store, or a JSON file holding one run state. */
export type StateEnd = { store: RunStore; label: string } | { file: string; label: string };

/** What a copy did. */
export interface CopyRunResult {
  run: string;
  status: RunState['status'];
  updatedAt: string;
  from: string;
  to: string;
  /** The copy the destination held before, if any. */
  replaced: { updatedAt: string; status: RunState['status'] } | undefined;
}

/** `migrate state export`: copies a run from the configured store to the other store, or to a file. */
export async function stateExportCommand(run: string, o: StateExportOptions): Promise<number> {
  const config = await loadConfig({ cwd: o.cwd, configPath: o.config, stateDir: o.stateDir });
  if ((o.to === undefined) === (o.file === undefined)) throw new UsageError('state export needs exactly one of --to file|kafka and --out FILE');
  if (o.to === config.state.store) throw new UsageError(`run ${run} already lives in ${describeRunStore(config)}`, `export it --to ${otherStore(o.to)}, or --out FILE`);
  const from = storeEnd(config, config.state.store);
  const to = o.to ? storeEnd(config, o.to) : fileEnd(o.cwd, o.file as string);
  return report('exported', await copyRun({ run, from, to, force: o.force }), o);
}

/** `migrate state import`: copies a run from a file, or from the other store, into the configured store. */
export async function stateImportCommand(source: string, o: StateImportOptions): Promise<number> {
  const config = await loadConfig({ cwd: o.cwd, configPath: o.config, stateDir: o.stateDir });
  if (o.from === config.state.store) throw new UsageError(`run ${source} already lives in ${describeRunStore(config)}`, `import it --from ${otherStore(o.from)}, or from a file`);
  const to = storeEnd(config, config.state.store);
  if (o.from) return report('imported', await copyRun({ run: source, from: storeEnd(config, o.from), to, force: o.force }), o);
  const from = fileEnd(o.cwd, source);
  if (!existsSync(from.file)) throw new UsageError(`${source}: no such file`, 'to import a run from a store, name the run and add --from file|kafka');
  return report('imported', await copyRun({ from, to, force: o.force }), o);
}

/**
 * Copies one run state between stores (or files). Takes the run's lock in every store involved,
 * so nobody drives the run while it moves, and refuses to replace a copy updated later than the
 * one being moved unless `force`. The source keeps its copy.
 */
export async function copyRun(o: { run?: string; from: StateEnd; to: StateEnd; force: boolean }): Promise<CopyRunResult> {
  const locks: RunLock[] = [];
  try {
    let state: RunState;
    if ('store' in o.from) {
      const run = o.run as string;
      locks.push(await o.from.store.lock(run));
      const found = await o.from.store.read(run);
      if (!found) throw new RunNotFoundError(run);
      state = found;
    } else {
      state = parseRunState(o.from.label, await readFile(o.from.file, 'utf8'));
    }

    let existing: RunState | undefined;
    if ('store' in o.to) {
      locks.push(await o.to.store.lock(state.name));
      existing = await o.to.store.read(state.name);
    } else if (existsSync(o.to.file) && !o.force) {
      existing = parseRunState(o.to.label, await readFile(o.to.file, 'utf8'));
    }
    if (existing && existing.updatedAt > state.updatedAt && !o.force) throw new DestinationRunIsNewerError(state, existing, o.to.label);

    if ('store' in o.to) await o.to.store.write(state);
    else await writeFileAtomic(o.to.file, JSON.stringify(state, null, 2) + '\n');
    return {
      run: state.name,
      status: state.status,
      updatedAt: state.updatedAt,
      from: o.from.label,
      to: o.to.label,
      replaced: existing && { updatedAt: existing.updatedAt, status: existing.status },
    };
  } finally {
    // Never hide the copy's own error behind a release failure.
    for (const lock of locks.reverse()) await lock.release().catch(() => undefined);
  }
}

/** The destination holds a later copy of the run than the one being moved. */
export class DestinationRunIsNewerError extends MigrateError {
  constructor(moving: RunState, existing: RunState, where: string) {
    super(
      `run ${moving.name} in ${where} was updated at ${existing.updatedAt}, after the copy being moved (${moving.updatedAt})`,
      ExitCode.badInput,
      { hint: 'it may have gone on there; compare them with migrate status, and pass --force to replace it anyway' },
    );
  }
}

function storeEnd(config: Config, kind: 'file' | 'kafka'): StateEnd {
  return { store: openRunStore(config, { store: kind }), label: describeRunStore(config, kind) };
}

function fileEnd(cwd: string, file: string): { file: string; label: string } {
  return { file: path.resolve(cwd, file), label: file };
}

function otherStore(kind: 'file' | 'kafka'): 'file' | 'kafka' {
  return kind === 'file' ? 'kafka' : 'file';
}

function report(verb: 'exported' | 'imported', r: CopyRunResult, o: StateCommandOptions): number {
  if (o.json) {
    o.out.write(JSON.stringify({ type: `state.${verb}`, ...r, replaced: r.replaced ?? null }) + '\n');
  } else {
    const replaced = r.replaced ? `; it replaced a copy updated at ${r.replaced.updatedAt}` : '';
    o.out.write(`${verb === 'exported' ? 'Exported' : 'Imported'} run ${r.run} (${r.status}, updated ${r.updatedAt}) from ${r.from} to ${r.to}${replaced}\n`);
  }
  return 0;
}
