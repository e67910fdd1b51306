// Child processes that start a grandchild, for tests that a stopped command takes everything it
// started with it: each writes its pid to a file in its working directory.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { eventually, workdir } from './cli.js';

/**
 * Writes `family.mjs` into `dir`: run there, it starts a grandchild, writes child.pid and
 * grandchild.pid, prints "started" and sleeps. With `trap`, both ignore SIGTERM and SIGINT and the
 * child writes the signal's name to `trapped` (and exits, unless `trap` is 'ignore').
 */
export async function familyScript(dir: string, trap?: 'exit' | 'ignore'): Promise<string> {
  const file = path.join(dir, 'family.mjs');
  const onSignal = trap === 'ignore' ? '() => {}' : '(sig) => { writeFileSync("trapped", sig); process.exit(0); }';
  await writeFile(
    file,
    `import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
${trap ? `for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, ${trap === 'ignore' ? '() => writeFileSync("trapped", sig)' : onSignal});` : ''}
const grandchild = spawn(process.execPath, ['-e', ${JSON.stringify(`${trap ? "process.on('SIGTERM', () => {}); process.on('SIGINT', () => {});" : ''}setInterval(() => {}, 1000)`)}], { stdio: 'ignore' });
writeFileSync('child.pid', String(process.pid));
writeFileSync('grandchild.pid', String(grandchild.pid));
console.log('started');
setInterval(() => {}, 1000);
`,
  );
  return file;
}

/**
 * A working directory with family.mjs and `pb.yaml`: a playbook of one exec step, `rollout`, whose
 * commands are argv arrays (written as YAML flow sequences) and whose timeout is `timeout`.
 */
export async function familyWorkdir(step: { timeout: string; check: string[]; apply?: string[] }, trap?: 'exit' | 'ignore'): Promise<string> {
  const argv = (a: string[]) => JSON.stringify(a);
  const cwd = await workdir({
    'pb.yaml': `name: pb
steps:
  - id: rollout
    uses: exec
    timeout: ${step.timeout}
    with: { check: ${argv(step.check)}${step.apply ? `, apply: ${argv(step.apply)}` : ''} }
`,
  });
  await familyScript(cwd, trap);
  return cwd;
}

/** The pids family.mjs wrote in `dir` (child, grandchild), once both are there. */
export async function familyPids(dir: string): Promise<[number, number]> {
  return eventually(async () => {
    const [child, grandchild] = await Promise.all(['child.pid', 'grandchild.pid'].map((f) => readFile(path.join(dir, f), 'utf8')));
    return child && grandchild ? ([Number(child), Number(grandchild)] as [number, number]) : undefined;
  });
}

/**
 * The process is gone: kill(pid, 0) throws ESRCH, or it is a zombie (dead, its exit status not yet
 * collected: an orphan waits for init, and some containers' init never collects).
 */
export async function gone(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // "pid (comm) S ...": the state follows the last ')' (comm may hold spaces or parentheses).
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
}

/** Waits until every one of `pids` is gone; rejects naming those still alive after `timeoutMs`. */
export async function allGone(pids: readonly number[], timeoutMs = 20_000): Promise<void> {
  try {
    await eventually(async () => (await Promise.all(pids.map(gone))).every(Boolean), timeoutMs);
  } catch {
    const alive = [];
    for (const pid of pids) if (!(await gone(pid))) alive.push(pid);
    throw new Error(`still running: ${alive.join(', ')}`);
  }
}

/** Kills what a test started and left, by pid (a failed test must not leave sleepers behind). */
export function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}
