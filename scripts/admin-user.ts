/**
 * Staff accounts of the support console:
 *
 *   npm run admin:user -- add NAME --role admin|kb_editor|agent|lead [--password P]
 *   npm run admin:user -- password NAME [--password P]     new password, unlocks, signs out everywhere
 *   npm run admin:user -- remove NAME
 *   npm run admin:user -- list
 *
 * Without --password the password is asked for (hidden) on a terminal, or generated and printed
 * once otherwise. Passwords are stored as scrypt hashes only. Exits 0 when done, 1 on a refusal.
 */
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/adapters/postgres/db/database.js';
import { createPgAccountStore, createPgSessionStore } from '../src/adapters/postgres/stores/pg-admin-store.js';
import { loadConfig } from '../src/config.js';
import { createAdminAccess, HelpdeskError, MIN_PASSWORD_CHARS, STAFF_ROLES } from '../src/core/index.js';

const USAGE = `usage: npm run admin:user -- add NAME --role ${STAFF_ROLES.join('|')} [--password P]
       npm run admin:user -- password NAME [--password P]
       npm run admin:user -- remove NAME
       npm run admin:user -- list`;

const { values: args, positionals } = parseArgs({
  options: { role: { type: 'string' }, password: { type: 'string' } },
  allowPositionals: true,
});
const [command, name] = positionals;
if (!command || !['add', 'password', 'remove', 'list'].includes(command) || (command !== 'list' && !name)) {
  console.error(USAGE);
  process.exit(2);
}
if (command === 'add' && !args.role) {
  console.error(`add needs --role (${STAFF_ROLES.join(', ')})\n${USAGE}`);
  process.exit(2);
}

/** Reads a line from the terminal without echoing it. */
function askHidden(question: string): Promise<string> {
  return new Promise((resolveAnswer) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const output = rl as unknown as { _writeToOutput: (s: string) => void };
    let asked = false;
    output._writeToOutput = (s: string) => {
      if (!asked) {
        process.stdout.write(s);
        asked = true;
      }
    };
    rl.question(question, (answer) => {
      rl.close();
      process.stdout.write('\n');
      resolveAnswer(answer);
    });
  });
}

/** The password given, typed twice on a terminal, or undefined (to be generated). */
async function passwordFor(account: string): Promise<string | undefined> {
  if (args.password !== undefined) return args.password;
  if (!process.stdin.isTTY) return undefined;
  const first = await askHidden(`Password for ${account} (at least ${MIN_PASSWORD_CHARS} characters; empty: generate one): `);
  if (first === '') return undefined;
  const again = await askHidden('Again: ');
  if (again !== first) {
    console.error('The two passwords differ; nothing changed.');
    process.exit(1);
  }
  return first;
}

const config = loadConfig(process.env);
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: resolve(config.dataDir) });
try {
  await database.migrate();
  const access = createAdminAccess({ accounts: createPgAccountStore(database.db), sessions: createPgSessionStore(database.db) });
  if (command === 'list') {
    const accounts = await access.listAccounts();
    if (accounts.length === 0) console.log('No staff accounts. Add one: npm run admin:user -- add NAME --role admin');
    for (const a of accounts) {
      const locked = a.lockedUntil && a.lockedUntil.getTime() > Date.now() ? `  locked until ${a.lockedUntil.toISOString()}` : '';
      console.log(`${a.name.padEnd(24)} ${a.role.padEnd(10)} last sign-in ${a.lastLoginAt?.toISOString() ?? 'never'}${locked}`);
    }
  } else if (command === 'add') {
    const result = await access.addAccount({ name: name as string, role: args.role as string, password: await passwordFor(name as string) });
    console.log(`added ${result.account.name} (${result.account.role})`);
    if (result.generated)
      console.log(`password: ${result.password}\n(shown once: hand it over safely; change it with npm run admin:user -- password ${result.account.name})`);
  } else if (command === 'password') {
    const result = await access.resetPassword(name as string, await passwordFor(name as string));
    console.log(`new password set for ${name}; its sessions are signed out`);
    if (result.generated) console.log(`password: ${result.password}`);
  } else {
    await access.removeAccount(name as string);
    console.log(`removed ${name} (its sessions are signed out)`);
  }
} catch (error) {
  if (error instanceof HelpdeskError) {
    console.error(error.userMessage);
    process.exitCode = 1;
  } else throw error;
} finally {
  await database.close();
}
