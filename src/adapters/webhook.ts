/**
 * Outgoing webhooks (run notifications): one JSON POST through the HTTP adapter, which loads
 * undici on first use. A webhook URL often is a secret (Slack's carry a token in the path), so
 * messages name only its origin.
 */

/** How long a notification may take before it is given up (the run does not wait longer). */
const WEBHOOK_TIMEOUT_MS = 5000;

/** The webhook did not take the notification. */
export class WebhookError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WebhookError';
  }
}

/** "https://hooks.slack.com": what messages may say about a webhook URL. */
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(not a URL)';
  }
}

/** Is this a URL a webhook can be posted to (http or https)? */
export function isWebhookUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** POSTs `body` as JSON; throws WebhookError unless the answer is 2xx. */
export async function postWebhook(url: string, body: unknown, timeoutMs = WEBHOOK_TIMEOUT_MS): Promise<void> {
  const { httpRequest } = await import('./http.js');
  const origin = webhookOrigin(url);
  let status: number;
  let text: string;
  try {
    ({ status, text } = await httpRequest({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'migrate' },
      body: JSON.stringify(body),
      timeoutMs,
    }));
  } catch (err) {
    throw new WebhookError(`webhook ${origin}: ${(err as Error).message}`, { cause: err });
  }
  if (status < 200 || status > 299) {
    const said = text.trim().split('\n')[0]?.slice(0, 200);
    throw new WebhookError(`webhook ${origin} answered HTTP ${status}${said ? `: ${said}` : ''}`);
  }
}
