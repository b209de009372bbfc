/**
 * `portcullis user add|list|remove|passwd`: local users of the web UI, in the service's app
 * database (found through the same configuration as `serve`). The password is read from standard
 * input, never from an argument (it would show in `ps` and shell history): typed without echo,
 * twice, on a terminal; the first line of piped input otherwise, so scripts can create the first
 * admin. Nothing secret is printed. The store is imported inside the actions so `--help` stays fast.
 */
import { Command } from 'commander';
import { PortcullisError } from '../../domain/errors.js';
import { configOption, withServiceStore, type ConfigOption } from '../service-store.js';


/** What was typed past the end of the last line read (a fast typist's or a paste's next line). */
let typedAhead = '';

/** Reads one line from a terminal with echo off (raw mode); Ctrl-C and Ctrl-D cancel. */
function readHiddenLine(prompt: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let line = '';
    const finish = (err?: PortcullisError): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (chunk: string): void => {
      const chars = [...chunk];
      for (const [i, ch] of chars.entries()) {
        if (ch === '\r' || ch === '\n') {
          typedAhead = chars.slice(i + 1).join('').replace(/^\n/, '');
          return finish();
        }
        if (ch === '\u0003' || ch === '\u0004') return finish(new PortcullisError('E_CANCELLED', 'cancelled; no password was set'));
        if (ch === '\u007f' || ch === '\b') line = [...line].slice(0, -1).join('');
        else if (ch >= ' ') line += ch;
      }
    };
    input.on('data', onData);
    if (typedAhead !== '') {
      const ahead = typedAhead;
      typedAhead = '';
      onData(ahead);
    }
  });
}

/** The first line of piped standard input (without its line ending). */
async function readPipedLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    if (chunks.reduce((n, c) => n + c.length, 0) > 64 * 1024) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.split(/\r?\n/, 1)[0] ?? '';
}

/** The new password: typed twice without echo on a terminal, else the first line of stdin; checked against the policy. */
async function readNewPassword(): Promise<string> {
  const { checkPasswordPolicy } = await import('../../store/users.js');
  let password: string;
  if (process.stdin.isTTY) {
    password = await readHiddenLine('Password: ');
    checkPasswordPolicy(password);
    const again = await readHiddenLine('Repeat password: ');
    if (again !== password) throw new PortcullisError('E_INPUT', 'the two passwords differ; nothing was changed');
  } else {
    password = await readPipedLine();
  }
  checkPasswordPolicy(password);
  return password;
}

/** The `user` command with its `add`, `list`, `remove` and `passwd` subcommands. */
export function userCommand(): Command {
  const user = new Command('user').description('Manage local users of the web UI (passwords hashed with scrypt; read from stdin)');
  user
    .command('add')
    .description('Create a user (role viewer, or admin with --admin); the password is read from stdin (typed twice without echo on a terminal)')
    .argument('<name>', 'the user name (letters, digits, ".", "_", "@", "-")')
    .option('--admin', 'role admin (everything a token of scope admin may do) instead of viewer (read only)')
    .addOption(configOption())
    .action(async (name: string, opts: ConfigOption & { admin?: boolean }) => {
      const { createUser } = await import('../../store/users.js');
      const password = await readNewPassword();
      const role = opts.admin === true ? 'admin' : 'viewer';
      await withServiceStore(opts, (store) => createUser(store, name, password, role));
      process.stderr.write(`created user "${name}" (role ${role})\n`);
    });
  user
    .command('list')
    .description('List users: name, role, created, disabled (never a password or its hash)')
    .addOption(configOption())
    .action(async (opts: ConfigOption) => {
      const { listUsers } = await import('../../store/users.js');
      const users = await withServiceStore(opts, (store) => listUsers(store));
      if (users.length === 0) {
        process.stderr.write('no users (create the first admin with `portcullis user add NAME --admin`)\n');
        return;
      }
      const rows = [['NAME', 'ROLE', 'CREATED', 'DISABLED'], ...users.map((u) => [u.name, u.role, u.createdAt, u.disabled ? 'yes' : 'no'])];
      const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
      process.stdout.write(`${rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n')}\n`);
    });
  user
    .command('remove')
    .description('Remove a user and end all their sessions')
    .argument('<name>', 'the user to remove')
    .addOption(configOption())
    .action(async (name: string, opts: ConfigOption) => {
      const { removeUser } = await import('../../store/users.js');
      await withServiceStore(opts, (store) => removeUser(store, name));
      process.stderr.write(`removed user "${name}"\n`);
    });
  user
    .command('passwd')
    .description('Set a new password (read from stdin like `add`); ends all the user\'s sessions')
    .argument('<name>', 'the user')
    .addOption(configOption())
    .action(async (name: string, opts: ConfigOption) => {
      const { setPassword } = await import('../../store/users.js');
      const password = await readNewPassword();
      await withServiceStore(opts, (store) => setPassword(store, name, password));
      process.stderr.write(`changed the password of "${name}"; their sessions were ended\n`);
    });
  // Usage errors of the subcommands reach main() (exit 2) instead of exiting from inside commander.
  for (const sub of user.commands) sub.exitOverride();
  return user;
}
