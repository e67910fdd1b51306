/**
 * Run notifications: when a run pauses at a gate, fails or completes, one JSON POST to a webhook,
 * Slack-compatible (`text` and `blocks`) with a `migrate` object for other receivers. Built from
 * the same events as the other renderers; never holds params (secret or not).
 */
import type { RunEvent } from '../engine/events.js';
import { UsageError } from '../errors.js';
import { isWebhookUrl, postWebhook } from '../adapters/webhook.js';
import { formatDuration } from '../util/time.js';

/** The machine-readable part of a notification. */
export interface RunNotice {
  run: string;
  playbook: string;
  status: 'paused' | 'failed' | 'completed';
  /** The gate the run waits at, or the step that failed. */
  step?: string;
  /** The command that approves the gate and continues the run. */
  continueWith?: string;
  /** The gate's question. */
  message?: string;
  /** The failure, and the chain of its causes. */
  error?: string;
  causes?: string[];
  durationMs: number;
  at: string;
}

/** A Slack block (only the kinds used here). */
export type SlackBlock =
  | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
  | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] };

/** What the webhook receives. */
export interface Notification {
  text: string;
  blocks: SlackBlock[];
  migrate: RunNotice;
}

/** Slack's mrkdwn needs &, < and > escaped; nothing else is special in these texts. */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Inline code in mrkdwn: backticks inside would end it, so they become quotes. */
function code(text: string): string {
  return '`' + esc(text).replace(/`/g, "'") + '`';
}

/** The notification for how a run ended this time. */
export function notificationFor(n: RunNotice): Notification {
  let text: string;
  const lines: string[] = [];
  if (n.status === 'paused') {
    text = `migrate: run ${n.run} is waiting for approval at gate ${n.step ?? '?'}`;
    lines.push(`:double_vertical_bar: Run ${code(n.run)} is waiting for approval at gate ${code(n.step ?? '?')}`);
    if (n.message) lines.push(`> ${esc(n.message)}`);
    if (n.continueWith) lines.push(`Continue with:\n\`\`\`${esc(n.continueWith)}\`\`\``);
  } else if (n.status === 'failed') {
    text = `migrate: run ${n.run} failed at step ${n.step ?? '?'}: ${n.error ?? ''}`;
    lines.push(`:x: Run ${code(n.run)} failed at step ${code(n.step ?? '?')}`);
    if (n.error) lines.push(`\`\`\`${esc([n.error, ...(n.causes ?? []).map((c) => `caused by: ${c}`)].join('\n'))}\`\`\``);
    lines.push('Fix the cause and run the same command again to resume.');
  } else {
    text = `migrate: run ${n.run} completed in ${formatDuration(n.durationMs)}`;
    lines.push(`:white_check_mark: Run ${code(n.run)} completed in ${formatDuration(n.durationMs)}`);
  }
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `playbook ${code(n.playbook)} · ${esc(n.at)}` }] },
    ],
    migrate: n,
  };
}

/** Collects what a notification needs from the events and sends one when the run pauses, fails or completes. */
export class RunNotifier {
  private playbook = '';
  private gate: { step: string; message: string; continueWith: string } | undefined;
  private failure: { step: string; error: string; causes: string[] } | undefined;
  private readonly pending: Promise<void>[] = [];

  constructor(
    private readonly send: (n: Notification) => Promise<void>,
    /** Where a failed notification is reported; it never fails the run. */
    private readonly warn: (line: string) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  event(e: RunEvent): void {
    if (e.type === 'run.started') this.playbook = e.playbook;
    else if (e.type === 'gate.waiting') this.gate = { step: e.step, message: e.message, continueWith: e.continueWith };
    else if (e.type === 'step.failed') this.failure = { step: e.step, error: e.error, causes: e.causes };
    else if (e.type === 'run.finished' && (e.status === 'paused' || e.status === 'failed' || e.status === 'completed')) {
      const notice: RunNotice = { run: e.run, playbook: this.playbook, status: e.status, durationMs: e.durationMs, at: this.now().toISOString() };
      if (e.step) notice.step = e.step;
      if (e.status === 'paused' && this.gate) Object.assign(notice, { message: this.gate.message, continueWith: this.gate.continueWith });
      if (e.status === 'failed' && this.failure) Object.assign(notice, { error: this.failure.error, causes: this.failure.causes });
      this.pending.push(this.send(notificationFor(notice)).catch((err: unknown) => this.warn(`warning: run notification not sent: ${(err as Error).message}`)));
    }
  }

  /** Waits for the notifications on their way (each bounded by the webhook timeout). */
  async flush(): Promise<void> {
    await Promise.all(this.pending);
  }
}

/** A notifier posting to `url` (--notify, or notify.webhook in the config), or undefined when there is none. */
export function webhookNotifier(url: string | undefined, err: { write(text: string): unknown }): RunNotifier | undefined {
  if (!url) return undefined;
  // The URL is not repeated: a webhook URL may carry a token.
  if (!isWebhookUrl(url)) throw new UsageError('the notification webhook is not an http:// or https:// URL', 'pass --notify https://... or set notify.webhook in migrate.config.yaml');
  return new RunNotifier(
    (n) => postWebhook(url, n),
    (line) => err.write(line + '\n'),
  );
}
