/**
 * `portcullis token create|list|revoke`: API bearer tokens of the registry service, in its app
 * database (found through the same configuration as `serve`). `create` prints the token once,
 * alone on stdout, so `TOKEN=$(portcullis token create ci --scope scan)` works; everything else
 * goes to stderr. The store is imported inside the actions so `--help` stays fast.
 */
import { Command, Option } from 'commander';
import { configOption, withServiceStore, type ConfigOption } from '../service-store.js';

const SCOPES = ['read', 'scan', 'admin'];


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
      const secret = await withServiceStore(opts, (store) => createToken(store, name, opts.scope));
      process.stdout.write(`${secret}\n`);
      process.stderr.write(`created token "${name}" (scope ${opts.scope}); it is shown only this once\n`);
    });
  token
    .command('list')
    .description('List tokens: name, scope, created, last used, revoked (never the token)')
    .addOption(configOption())
    .action(async (opts: ConfigOption) => {
      const { listTokens } = await import('../../store/tokens.js');
      const tokens = await withServiceStore(opts, (store) => listTokens(store));
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
      const changed = await withServiceStore(opts, (store) => revokeToken(store, name));
      process.stderr.write(changed ? `revoked token "${name}"\n` : `token "${name}" was already revoked\n`);
    });
  // Usage errors of the subcommands reach main() (exit 2) instead of exiting from inside commander.
  for (const sub of token.commands) sub.exitOverride();
  return token;
}
