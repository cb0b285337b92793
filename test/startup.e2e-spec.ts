import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('Start-up without a database (e2e)', () => {
  it('should retry for DATABASE_CONNECT_TIMEOUT_SECONDS, then exit 1 with one clear line', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'auth-nodb-'));
    const port = await closedPort();
    const started = Date.now();
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'src/main.ts'],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          NODE_ENV: 'test',
          DATA_DIR: dataDir,
          PORT: '0',
          JWT_SECRET: 'startup-test-secret-startup-test-secret-012345',
          DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/nothing`,
          DATABASE_CONNECT_TIMEOUT_SECONDS: '2',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });

    expect(code).toBe(1);
    const lines = output.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toEqual([
      'Start-up failed: the database is not reachable after 2 s (ECONNREFUSED); check DATABASE_URL',
    ]);
    // It did retry for the bounded time, and no longer.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(Date.now() - started).toBeLessThan(20000);
  });
});
