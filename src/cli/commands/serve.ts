/**
 * `portcullis serve [--config FILE] [--listen HOST:PORT]`: the registry service in the foreground
 * until SIGINT or SIGTERM. Heavy modules (the HTTP framework, the store) are imported inside the
 * action so `portcullis --help` does not load them.
 */
import { Command } from 'commander';

interface ServeOptions {
  config?: string;
  listen?: string;
}

/** Longest wait for in-flight requests at shutdown before the process gives up on them. */
const SHUTDOWN_GRACE_MS = 10_000;

/** The `serve` command; its action resolves (exit 0) once a signal has closed the service. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('Run the registry service: HTTP API, registry webhook and health probes (logs are JSON lines on stderr)')
    .option('--config <file>', 'service configuration (YAML); PORTCULLIS_* environment variables override it')
    .option('--listen <host:port>', 'address to listen on (overrides http.listen; default 127.0.0.1:8080)')
    .action(async (opts: ServeOptions) => {
      const { loadServiceConfig } = await import('../../config/service-config.js');
      const { startService } = await import('../../server/start-service.js');
      const config = loadServiceConfig(opts.config !== undefined ? { file: opts.config } : {});
      const service = await startService(config, opts.listen !== undefined ? { listen: opts.listen } : {});
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          service.logger.info({ signal }, 'shutting down');
          // A request that never finishes must not keep the process alive forever.
          const force = setTimeout(() => {
            service.logger.error('shutdown timed out; exiting');
            process.exit(1);
          }, SHUTDOWN_GRACE_MS);
          force.unref();
          service.close().then(resolve, (err: unknown) => {
            service.logger.error({ err }, 'shutdown failed');
            resolve();
          });
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
