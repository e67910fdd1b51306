import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { migrateBin } from './cli.js';

const exec = promisify(execFile);

/** Quotes an argument for sh. */
function sh(arg: string): string {
  return /^[A-Za-z0-9@%_+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface TerminalOptions {
  cwd: string;
  /** Set in the terminal; CI and NO_COLOR are unset unless given here. */
  env?: Record<string, string>;
  width?: number;
  height?: number;
}

/**
 * `migrate <args>` in a real pseudo-terminal: a detached tmux session on a server of its own, read
 * with capture-pane and typed into with send-keys, the way a person at a terminal would use it.
 */
export class Terminal {
  private constructor(
    private readonly socket: string,
    private readonly exitFile: string,
  ) {}

  static async start(args: string[], o: TerminalOptions): Promise<Terminal> {
    const socket = `migrate-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const exitFile = path.join(o.cwd, `.exit-${socket}`);
    const env = Object.entries({ KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '', ...o.env }).map(([k, v]) => `${k}=${sh(v)}`);
    const unset = ['CI', 'NO_COLOR', 'FORCE_COLOR'].filter((k) => !o.env || !(k in o.env)).map((k) => `-u ${k}`);
    // The pane outlives the command (sleep), so its last screen can still be read after it exits.
    const command = `env ${unset.join(' ')} ${env.join(' ')} ${sh(process.execPath)} ${sh(migrateBin)} ${args.map(sh).join(' ')}; echo $? > ${sh(exitFile)}; exec sleep 600`;
    await tmux(socket, ['-f', '/dev/null', 'new-session', '-d', '-s', 'main', '-x', String(o.width ?? 120), '-y', String(o.height ?? 40), '-c', o.cwd, command]);
    return new Terminal(socket, exitFile);
  }

  /** What the terminal shows now, one line per line of output (wrapped rows joined), trailing blanks dropped. */
  async screen(): Promise<string> {
    const { stdout } = await tmux(this.socket, ['capture-pane', '-p', '-J', '-t', 'main']);
    return stdout.split('\n').map((l) => l.trimEnd()).join('\n').trimEnd() + '\n';
  }

  /** Keys as send-keys takes them: text, or names such as Enter, Down, C-c. */
  async send(...keys: string[]): Promise<void> {
    await tmux(this.socket, ['send-keys', '-t', 'main', ...keys]);
  }

  /** Waits until the screen shows `what`; returns that screen. */
  async waitFor(what: string | RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen();
      if (typeof what === 'string' ? screen.includes(what) : what.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`the terminal never showed ${String(what)}; it shows:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for migrate to exit; returns its exit code and the last screen. */
  async exit(timeoutMs = 30_000): Promise<{ code: number; screen: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = await readFile(this.exitFile, 'utf8').catch(() => '');
      if (text.trim()) return { code: Number(text.trim()), screen: await this.screen() };
      if (Date.now() > deadline) throw new Error(`migrate did not exit within ${timeoutMs}ms; the terminal shows:\n${await this.screen()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    await tmux(this.socket, ['kill-server']).catch(() => undefined);
  }
}

async function tmux(socket: string, args: string[]): Promise<{ stdout: string }> {
  try {
    return await exec('tmux', ['-L', socket, ...args], { env: { ...process.env, TMUX: '' } });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('tmux is not installed (the terminal tests need it): apt-get install tmux', { cause: err });
    throw err;
  }
}
