/**
 * `portcullis worker --config FILE`: the service's background work without the HTTP server, for
 * scale: registry events applied, scans run, catalog synced, results re-matched and webhooks sent.
 * Several worker processes on several machines share one PostgreSQL app database (jobs are claimed
 * with leases, so a killed worker's scan is picked up again). Heavy modules load inside the action.
 */
import { Command } from 'commander';

interface WorkerOptions {
  config?: string;
  concurrency?: string;
}

/** The `worker` command; its action resolves (exit 0) once a signal has stopped the work in flight. */
export function workerCommand(): Command {
  return new Command('worker')
    .description('Run only the service workers (scans, registry events, catalog sync, re-match, webhooks) against the configured app database')
    .option('--config <file>', 'service configuration (YAML); PORTCULLIS_* environment variables override it')
    .option('--concurrency <n>', 'scans at once in this process (default: workers.concurrency)')
    .action(async (opts: WorkerOptions) => {
      const { loadServiceConfig, resolveDatabase } = await import('../../config/service-config.js');
      const { openStore } = await import('../../store/open-store.js');
      const { registryEventQueue } = await import('../../store/registry-events.js');
      const { ServiceRuntime } = await import('../../service/runtime.js');
      const { positiveInt } = await import('../options.js');
      const { pino } = await import('pino');
      const config = loadServiceConfig(opts.config !== undefined ? { file: opts.config } : {});
      const concurrency = positiveInt(opts.concurrency, '--concurrency', config.workers.concurrency);
      const logger = pino({ base: { service: 'portcullis-worker' } }, pino.destination(2));
      const store = await openStore(resolveDatabase(config));
      const runtime = new ServiceRuntime({ config, store, events: registryEventQueue(store), log: logger, engineLog: logger, concurrency, pollMs: 1_000 });
      await runtime.start();
      logger.info({ worker: runtime.worker?.workerId, concurrency }, 'worker started');
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          logger.info({ signal }, 'worker stopping');
          runtime
            .stop()
            .then(() => store.close())
            .then(resolve, (err: unknown) => {
              logger.error({ err }, 'worker stop failed');
              resolve();
            });
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
