// Process-group and log-file helpers shared by the scripts that run real servers for the tests
// and the demo (kafka-lib, unleash-lib, registry-lib, flagd-lib). Each server is spawned detached,
// so it leads its own process group and a signal to the group reaches everything it started.
import { readFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The process exists and is not a zombie (exited, not yet reaped). */
export function pidAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: kill(0) said it exists
  }
}

/** Signals the process group led by pid, or the process alone when it leads none. */
export function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** `signal` (SIGTERM) to the group, up to timeoutMs for it to go, then SIGKILL and up to 5 s more. */
export async function killGroup(pid, isAlive, timeoutMs, signal = 'SIGTERM') {
  if (!pid || !isAlive()) return;
  signalGroup(pid, signal);
  const deadline = Date.now() + timeoutMs;
  while (isAlive() && Date.now() < deadline) await sleep(50);
  if (!isAlive()) return;
  signalGroup(pid, 'SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (isAlive() && Date.now() < killDeadline) await sleep(50);
}

/** What a log file gained since `offset` (its size when the server was started), or ''. */
export async function readSince(file, offset) {
  let handle;
  try {
    handle = await open(file, 'r');
    const { size } = await handle.stat();
    if (size <= offset) return '';
    const buffer = Buffer.alloc(size - offset);
    await handle.read(buffer, 0, buffer.length, offset);
    return buffer.toString('utf8');
  } catch {
    return '';
  } finally {
    await handle?.close();
  }
}

/** The file's size, 0 when it does not exist. */
export async function fileSize(file) {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

export async function exists(file) {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
