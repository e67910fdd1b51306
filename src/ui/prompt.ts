import type { GateQuestion } from '../engine/execute.js';

/** True when a person can answer: both ends are terminals and this is not CI. */
export function canPrompt(env: Record<string, string | undefined> = process.env): boolean {
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  return Boolean(process.stdin.isTTY && process.stdout.isTTY) && !ci;
}

/** Asks a person to approve a gate (inquirer is loaded only when a gate is reached). */
export async function askGate(q: GateQuestion, signal?: AbortSignal): Promise<boolean> {
  const { confirm } = await import('@inquirer/prompts');
  const text = q.description ? `${q.message}\n  ${q.description}` : q.message;
  try {
    return await confirm({ message: `[${q.step}] ${text}`, default: false }, signal ? { signal } : {});
  } catch (err) {
    if ((err as Error).name === 'ExitPromptError' || (err as Error).name === 'AbortPromptError') return false;
    throw err;
  }
}
