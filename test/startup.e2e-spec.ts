import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnService } from './support/service-process';

describe('Start-up without a database (e2e)', () => {
  it('should retry for DATABASE_CONNECT_TIMEOUT_SECONDS, then exit 1 with one clear line', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'auth-nodb-'));
    // A port nothing listens on.
    const port = await freePort();
    const started = Date.now();
    const service = spawnService({
      DATA_DIR: dataDir,
      PORT: '0',
      JWT_SECRET: 'startup-test-secret-startup-test-secret-012345',
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/nothing`,
      DATABASE_CONNECT_TIMEOUT_SECONDS: '2',
    });
    const { code } = await service.exited;
    rmSync(dataDir, { recursive: true, force: true });

    expect(code).toBe(1);
    const lines = service
      .output()
      .split('\n')
      .filter((line) => line.trim() !== '');
    expect(lines).toEqual([
      'Start-up failed: the database is not reachable after 2 s (ECONNREFUSED); check DATABASE_URL',
    ]);
    // It did retry for the bounded time, and no longer.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(Date.now() - started).toBeLessThan(20000);
  });
});
