import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { AppModule } from './app.module';
import { ProblemException } from './common/problem';
import { ConfigError, loadConfig } from './config/configuration';
import { AdminService } from './admin/admin.service';

export const USAGE = `usage: npm run cli -- <command> --email <email> [--password <password>]

commands:
  create-admin --email E --password P   create an administrator (or make an existing account one)
  promote --email E                     give an existing account the admin role
  demote --email E                      take the admin role away (never from the last admin)

The command uses the same environment as the service (DATABASE_URL, DATA_DIR, ...).
With the embedded store, stop the service first: one process at a time may open it.`;

export interface CliOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** The operator's command line; returns the exit code (0 done, 1 refused or failed, 2 usage). */
export async function runCli(argv: string[], io: CliOutput): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  const { command, email, password } = parsed;
  if (!command || !email || !['create-admin', 'promote', 'demote'].includes(command)) {
    io.err(USAGE);
    return 2;
  }
  if (command === 'create-admin' && !password) {
    io.err('create-admin needs --password');
    return 2;
  }
  try {
    loadConfig(process.env);
    // Errors are reported below as one line; Nest's own handler would print a stack.
    const app = await NestFactory.createApplicationContext(AppModule, {
      logger: false,
      abortOnError: false,
    });
    try {
      const admin = app.get(AdminService);
      const user =
        command === 'create-admin'
          ? await admin.ensureAdmin(email, password as string, 'cli')
          : await admin.setAdminRole(email, command === 'promote', 'cli');
      io.out(`${user.email} (${user.id}): roles ${user.roles.join(', ')}`);
      return 0;
    } finally {
      await app.close();
    }
  } catch (error) {
    if (error instanceof ProblemException) {
      io.err(`${error.code}: ${error.detail}`);
    } else if (error instanceof ConfigError) {
      io.err(`Configuration error: ${error.message}`);
    } else {
      io.err(error instanceof Error ? error.message : String(error));
    }
    return 1;
  }
}

function parse(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { email: { type: 'string' }, password: { type: 'string' } },
  });
  if (positionals.length > 1) {
    throw new Error(`one command at a time (got ${positionals.join(' ')})`);
  }
  return { command: positionals[0], email: values.email, password: values.password };
}
