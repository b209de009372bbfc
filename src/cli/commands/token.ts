/**
 * `portcullis token create|list|revoke`: API bearer tokens of the registry service, in its app
 * database (found through the same configuration as `serve`). `create` prints the token once,
 * alone on stdout, so `TOKEN=$(portcullis token create ci --scope scan)` works; everything else
 * goes to stderr. The store is imported inside the actions so `--help` stays fast.
 */
import { Command, Option } from 'commander';
import type { Store } from '../../store/open-store.js';

interface ConfigOption {
  config?: string;
}

const SCOPES = ['read', 'scan', 'admin'];

async function withStore<T>(opts: ConfigOption, work: (store: Store) => Promise<T>): Promise<T> {
  const { loadServiceConfig, resolveDatabase } = await import('../../config/service-config.js');
  const { openStore } = await import('../../store/open-store.js');
  const config = loadServiceConfig(opts.config !== undefined ? { file: opts.config } : {});
  const store = await openStore(resolveDatabase(config));
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

const configOption = (): Option => new Option('--config <file>', 'service configuration (YAML) naming the database; PORTCULLIS_* environment variables override it');

/** The `token` command with its `create`, `list` and `revoke` subcommands. */
export function tokenCommand(): Command {
  const token = new Command('token').description('Manage API bearer tokens of the registry service (only their SHA-256 is stored)');
  token
    .command('create')
    .description('Create a token and print it once on stdout (read < scan < admin)')
    .argument('<name>', 'a name for the token (letters, digits, ".", "_", "-")')
    .addOption(new Option('--scope <scope>', 'what the token may do').choices(SCOPES).makeOptionMandatory())
    .addOption(configOption())
    .action(async (name: string, opts: ConfigOption & { scope: string }) => {
      const { createToken } = await import('../../store/tokens.js');
      const secret = await withStore(opts, (store) => createToken(store, name, opts.scope));
      process.stdout.write(`${secret}\n`);
      process.stderr.write(`created token "${name}" (scope ${opts.scope}); it is shown only this once\n`);
    });
  token
    .command('list')
    .description('List tokens: name, scope, created, last used, revoked (never the token)')
    .addOption(configOption())
    .action(async (opts: ConfigOption) => {
      const { listTokens } = await import('../../store/tokens.js');
      const tokens = await withStore(opts, (store) => listTokens(store));
      if (tokens.length === 0) {
        process.stderr.write('no tokens (create one with `portcullis token create NAME --scope read|scan|admin`)\n');
        return;
      }
      const rows = [['NAME', 'SCOPE', 'CREATED', 'LAST USED', 'REVOKED'], ...tokens.map((t) => [t.name, t.scope, t.createdAt, t.lastUsedAt ?? '-', t.revokedAt ?? '-'])];
      const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
      process.stdout.write(`${rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n')}\n`);
    });
  token
    .command('revoke')
    .description('Revoke a token: its requests are refused from now on')
    .argument('<name>', 'the token to revoke')
    .addOption(configOption())
    .action(async (name: string, opts: ConfigOption) => {
      const { revokeToken } = await import('../../store/tokens.js');
      const changed = await withStore(opts, (store) => revokeToken(store, name));
      process.stderr.write(changed ? `revoked token "${name}"\n` : `token "${name}" was already revoked\n`);
    });
  // Usage errors of the subcommands reach main() (exit 2) instead of exiting from inside commander.
  for (const sub of token.commands) sub.exitOverride();
  return token;
}
