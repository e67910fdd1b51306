// The command line of the scripts that run a real server for local work (kafka.mjs, unleash.mjs,
// registry.mjs, flagd.mjs): `<command> [--data-dir DIR] [--<option> VALUE]`, errors as one line
// on stderr with exit code 1.
import { mkdir, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

class UsageError extends Error {}

/**
 * Parses argv and runs the named command with { dataDir, ...options }.
 * `commands`: name -> async (args) => void. `options`: flag -> [key, default], e.g.
 * { '--flag-file': ['flagFile', 'flags.json'] }. The data dir defaults to ${TMPDIR}/migrate-<name>.
 */
export async function serverCli({ name, argv = process.argv.slice(2), commands, options = {} }) {
  const usage = `usage: node scripts/${name}.mjs ${Object.keys(commands).join('|')} [--data-dir DIR]${Object.keys(options).map((o) => ` [${o} VALUE]`).join('')}`;
  try {
    const [command, ...rest] = argv;
    if (command === '-h' || command === '--help' || command === 'help') {
      process.stdout.write(`${usage}\n`);
      return;
    }
    const args = { dataDir: path.join(process.env.TMPDIR || os.tmpdir(), `migrate-${name}`) };
    for (const [key, value] of Object.values(options)) args[key] = value;
    const flags = { '--data-dir': 'dataDir', '-d': 'dataDir', ...Object.fromEntries(Object.entries(options).map(([flag, [key]]) => [flag, key])) };
    for (let i = 0; i < rest.length; i++) {
      const [flag, inline] = rest[i].startsWith('--') && rest[i].includes('=') ? rest[i].split(/=(.*)/s) : [rest[i], undefined];
      const key = flags[flag];
      if (!key) throw new UsageError(`unknown argument ${rest[i]}; ${usage}`);
      const value = inline ?? rest[++i];
      if (!value) throw new UsageError(`${flag} needs a value; ${usage}`);
      args[key] = value;
    }
    if (!Object.hasOwn(commands, command ?? '')) throw new UsageError(command ? `unknown command ${command}; ${usage}` : usage);
    args.dataDir = path.resolve(args.dataDir);
    await commands[command](args);
    process.exitCode = 0;
  } catch (err) {
    process.stderr.write(`${name}: error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}

/** Empties a data dir this script owns (only `ours` names in it), or creates it. */
export async function wipeDataDir(dataDir, ours) {
  let entries;
  try {
    entries = await readdir(dataDir);
  } catch (err) {
    if (err.code === 'ENOENT') return mkdir(dataDir, { recursive: true });
    throw err;
  }
  const foreign = entries.filter((entry) => !ours.has(entry));
  if (foreign.length > 0) {
    throw new Error(`${dataDir} holds files this script did not write (${foreign.slice(0, 3).join(', ')}); refusing to wipe it: pass another --data-dir`);
  }
  await Promise.all(entries.map((entry) => rm(path.join(dataDir, entry), { recursive: true, force: true })));
}
