import type { Config } from '../config.js';
import type { FlagProvider } from './flags.js';

/** The flag provider the configuration names, loaded on first use. */
export async function openFlagProvider(config: Config['flags']): Promise<FlagProvider> {
  const { FileFlagProvider } = await import('./flags-file.js');
  return new FileFlagProvider(config.file);
}
