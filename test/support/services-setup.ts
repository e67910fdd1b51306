// vitest globalSetup: the flag server, the schema registry and flagd that the tests in
// test/services/ run against, each a real server started here (or reused when its URL is set in
// the environment, like KAFKA_BROKERS for the broker). They start side by side; if one fails to
// start, the others are stopped before the error is reported.
import type { TestProject } from 'vitest/node';

import flagd from './flagd-setup.js';
import registry from './registry-setup.js';
import unleash from './unleash-setup.js';

type Teardown = (() => Promise<void>) | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = await Promise.allSettled([unleash(project), registry(project), flagd(project)]);
  const teardowns = started.flatMap((s) => (s.status === 'fulfilled' && s.value ? [s.value] : []));
  const teardown = async (): Promise<void> => {
    for (const stop of teardowns.reverse()) await stop().catch(() => undefined);
  };
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await teardown();
    throw failed.reason;
  }
  return teardown;
}

export type { Teardown };
