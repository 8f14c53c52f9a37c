/**
 * `updraft users ...`: list, create, password, role, delete — the users of the web UI
 * and REST API. Passwords never go on the command line (where `ps` shows them): a new
 * one is generated and printed once, or read from stdin with `--password-stdin`.
 * `--json` prints `UserInfo` / `UserInfo[]` (with the generated `password` when one was made).
 */
import { Argument, type Command } from 'commander';
import { randomPassword } from '../../auth/passwords.ts';
import { ROLES } from '../../auth/roles.ts';
import { withOperations } from '../context.ts';
import { UsageError } from '../errors.ts';
import { isoTime, printJson, printTable, say } from '../output.ts';

interface PasswordFlags {
  passwordStdin?: boolean;
  json?: boolean;
}

export function registerUserCommands(program: Command): void {
  const users = program.command('users').description('users of the web UI and REST API');

  users
    .command('list')
    .description('users with their roles')
    .option('--json', 'print UserInfo[] as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withOperations(cmd, async (ops) => {
        const list = await ops.listUsers();
        if (opts.json) return printJson(list);
        printTable(
          ['user', 'role', 'created', 'password changed'],
          list.map((u) => [u.username, u.role, isoTime(u.createdAt), isoTime(u.passwordChangedAt)]),
          'no users (updraft standalone creates the first admin)',
        );
      });
    });

  users
    .command('create <username>')
    .addArgument(new Argument('<role>', 'what the user may do').choices(ROLES))
    .description('create a user (the password is generated and printed once, or read from stdin)')
    .option('--password-stdin', 'read the password from stdin instead of generating one')
    .option('--json', 'print the UserInfo (and a generated password) as JSON')
    .action(async (username: string, role: string, opts: PasswordFlags, cmd: Command) => {
      const { password, generated } = await choosePassword(opts);
      await withOperations(cmd, async (ops) => {
        const user = await ops.createUser(username, role, password);
        if (opts.json) return printJson(generated ? { ...user, password } : user);
        say(`created ${user.username} (${user.role})`);
        if (generated) say(`password: ${password}  (shown once)`);
      });
    });

  users
    .command('password <username>')
    .description("set a user's password (ends their sessions)")
    .option('--password-stdin', 'read the password from stdin instead of generating one')
    .option('--json', 'print the UserInfo (and a generated password) as JSON')
    .action(async (username: string, opts: PasswordFlags, cmd: Command) => {
      const { password, generated } = await choosePassword(opts);
      await withOperations(cmd, async (ops) => {
        const user = await ops.updateUser(username, { password });
        if (opts.json) return printJson(generated ? { ...user, password } : user);
        say(`password of ${user.username} changed; their sessions have ended`);
        if (generated) say(`password: ${password}  (shown once)`);
      });
    });

  users
    .command('role <username>')
    .addArgument(new Argument('<role>', 'the new role').choices(ROLES))
    .description("change a user's role (ends their sessions)")
    .option('--json', 'print the UserInfo as JSON')
    .action(async (username: string, role: string, opts: { json?: boolean }, cmd: Command) => {
      await withOperations(cmd, async (ops) => {
        const user = await ops.updateUser(username, { role });
        if (opts.json) return printJson(user);
        say(`${user.username} is now ${user.role}`);
      });
    });

  users
    .command('delete <username>')
    .description('delete a user with their sessions and API tokens')
    .action(async (username: string, _opts: unknown, cmd: Command) => {
      await withOperations(cmd, async (ops) => {
        await ops.deleteUser(username);
        say(`deleted ${username}`);
      });
    });
}

async function choosePassword(
  opts: PasswordFlags,
): Promise<{ password: string; generated: boolean }> {
  if (!opts.passwordStdin) return { password: randomPassword(), generated: true };
  if (process.stdin.isTTY) {
    throw new UsageError(
      '--password-stdin reads a piped password, e.g. `echo "$PW" | updraft users ...`',
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (password === '') throw new UsageError('--password-stdin: stdin was empty');
  return { password, generated: false };
}
