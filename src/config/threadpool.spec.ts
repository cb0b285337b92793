import { spawnSync } from 'node:child_process';
import { sizeThreadpool, threadpoolSize } from './threadpool';

/**
 * In a fresh Node process: load the app's modules (as main.ts does before it
 * sizes the pool), size the pool, use it once, and count the threads it
 * added; then the size the app's configuration reads. Linux only
 * (/proc/self/task), like the service's production image.
 */
function threadsAdded(threads: number, env: Record<string, string> = {}): string {
  const script = `
    const { readdirSync, stat } = require('node:fs');
    require('./src/app.setup');
    const { sizeThreadpool } = require('./src/config/threadpool');
    const before = readdirSync('/proc/self/task').length;
    const size = sizeThreadpool(${threads});
    // What the configuration Nest injects (loaded from the environment, after this) reads.
    const { appConfig } = require('./src/config/configuration');
    const configured = appConfig().hashing.threads;
    stat('.', () =>
      process.stdout.write([size, readdirSync('/proc/self/task').length - before, configured].join(' ')),
    );
  `;
  const child = spawnSync(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-e', script],
    { encoding: 'utf8', env: { PATH: process.env.PATH, JWT_SECRET: 'x'.repeat(32), ...env } },
  );
  expect(child.stderr).toBe('');
  return child.stdout;
}

describe(sizeThreadpool.name, () => {
  it('should give the pool that many threads when it runs before the pool starts, after the app is loaded, and the configuration should know it', () => {
    expect(threadsAdded(2)).toBe('2 2 2');
    expect(threadsAdded(3)).toBe('3 3 3');
  });

  it("should leave the operator's UV_THREADPOOL_SIZE as it is, and say what it gives", () => {
    expect(threadsAdded(2, { UV_THREADPOOL_SIZE: '5' })).toBe('5 5 5');
  });

  it('should read a set value as libuv does', () => {
    const size = (value: string) => sizeThreadpool(2, { UV_THREADPOOL_SIZE: value });
    expect(size('6')).toBe(6);
    expect(size('0')).toBe(1);
    expect(size('many')).toBe(1);
    expect(size('2000')).toBe(1024);
    expect(size('-1')).toBe(1024);
    expect(threadpoolSize({ UV_THREADPOOL_SIZE: '3' })).toBe(3);
  });

  it("should read an unset or empty variable as libuv's default of 4", () => {
    expect(threadpoolSize({})).toBe(4);
    expect(threadpoolSize({ UV_THREADPOOL_SIZE: '' })).toBe(4);
  });

  it('should set the variable only when it is unset or empty', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(sizeThreadpool(3, env)).toBe(3);
    expect(env.UV_THREADPOOL_SIZE).toBe('3');
    const empty: NodeJS.ProcessEnv = { UV_THREADPOOL_SIZE: '' };
    expect(sizeThreadpool(2, empty)).toBe(2);
    expect(empty.UV_THREADPOOL_SIZE).toBe('2');
  });
});
