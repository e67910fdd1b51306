import type { FlagsConfig } from '../config.js';
import type { FlagEvaluator, FlagProvider } from './flags.js';

/** The flag provider the configuration names, loaded on first use. */
export async function openFlagProvider(config: FlagsConfig): Promise<FlagProvider> {
  if (config.provider === 'unleash') {
    const { UnleashFlagProvider } = await import('./flags-unleash.js');
    return UnleashFlagProvider.fromConfig(config);
  }
  const { FileFlagProvider } = await import('./flags-file.js');
  return new FileFlagProvider(config.file);
}

/** The evaluation endpoint flag.set waits on after a switch, if one is configured. */
export async function openFlagEvaluator(config: FlagsConfig): Promise<FlagEvaluator | undefined> {
  const p = config.propagation;
  if (!p) return undefined;
  if (p.via === 'ofrep') {
    const { OfrepEvaluator } = await import('./flags-ofrep.js');
    return new OfrepEvaluator(p.url, p.token);
  }
  const { UnleashClientEvaluator } = await import('./flags-unleash.js');
  return UnleashClientEvaluator.fromConfig(config);
}
