import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createStore, type TestStore } from './test-app';

/** A TCP port that was free a moment ago (nothing listens on it now). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output: () => string;
  /** What it printed on stdout alone (the log). */
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/**
 * The real entry point (`src/main.ts`, transpiled on the fly, or the built
 * `dist/src/main.js`) in a process of its own, with only the given environment
 * (plus PATH and HOME).
 */
export function spawnService(
  env: Record<string, string>,
  options: { built?: boolean } = {},
): ServiceProcess {
  const entry = options.built
    ? ['dist/src/main.js']
    : ['-r', 'ts-node/register/transpile-only', 'src/main.ts'];
  const child = spawn(process.execPath, entry, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { child, output: () => output, stdout: () => stdout, exited };
}

/** Waits for /health/ready to answer 200 (up to a minute); fails with the output if the process exits first. */
export async function waitUntilReady(
  base: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`the service exited while starting:\n${output()}`);
    }
    try {
      if ((await fetch(`${base}/health/ready`)).ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the service did not become ready:\n${output()}`);
}

/**
 * The real entry point on a fresh store of its own, for one describe block:
 * `start(env)` spawns it on a free port and waits until it is ready: `base`
 * is its address for HTTP clients, `publicUrl` its PUBLIC_URL (the same port
 * on `localhost`: a passkey's RP ID cannot be an IP address), the origin a
 * browser opens. afterAll kills it if it still runs and drops the store.
 */
export function useRealService(): {
  start: (
    env: Record<string, string>,
    options?: { built?: boolean },
  ) => Promise<ServiceProcess & { base: string; publicUrl: string }>;
} {
  let store: TestStore | undefined;
  let running: ServiceProcess | undefined;
  afterAll(async () => {
    running?.child.kill('SIGKILL');
    await store?.drop();
  });
  return {
    async start(env, options) {
      store = await createStore();
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const publicUrl = `http://localhost:${port}`;
      running = spawnService(
        { PORT: String(port), PUBLIC_URL: publicUrl, ...store.env, ...env },
        options,
      );
      await waitUntilReady(base, running.child, running.output);
      return { ...running, base, publicUrl };
    },
  };
}
