/**
 * The service's app database for the commands that manage it beside `serve` (`token`, `user`):
 * found through the same configuration as `serve`, opened for one piece of work and closed again.
 * The config and store modules are imported inside, so `--help` of those commands stays fast.
 */
import { Option } from 'commander';
import type { Store } from '../store/open-store.js';

export interface ConfigOption {
  config?: string;
}

/** Opens the app database `opts.config` (or the environment, or the defaults) names, runs `work`, closes it. */
export async function withServiceStore<T>(opts: ConfigOption, work: (store: Store) => Promise<T>): Promise<T> {
  const { loadServiceConfig, resolveDatabase } = await import('../config/service-config.js');
  const { openStore } = await import('../store/open-store.js');
  const config = loadServiceConfig(opts.config !== undefined ? { file: opts.config } : {});
  const store = await openStore(resolveDatabase(config));
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** `--config FILE`, as `serve` takes it. */
export const configOption = (): Option => new Option('--config <file>', 'service configuration (YAML) naming the database; PORTCULLIS_* environment variables override it');
