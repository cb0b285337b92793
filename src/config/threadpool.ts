/** libuv's ceiling on UV_THREADPOOL_SIZE (src/threadpool.c). */
const MAX_THREADS = 1024;
/** libuv's pool size when UV_THREADPOOL_SIZE is not set. */
const DEFAULT_THREADS = 4;

/**
 * Sizes libuv's thread pool (where argon2 hashes, and where `fs`, `dns.lookup`
 * and WebCrypto run) to `threads`, unless the operator set
 * UV_THREADPOOL_SIZE; returns the size the pool will have.
 *
 * libuv reads the variable once, when the pool first starts, so this must run
 * before anything in the process uses it: `main.ts` calls it right after
 * loading the configuration (loading the app's modules does not start the
 * pool). Cluster workers inherit the variable.
 *
 * Why: with Node's default of 4 threads on a 2-core machine and 2 hashes at
 * once, every finished hash left a core idle until the event loop woke and
 * handed over the next one, and the thread that took it was often one that
 * had slept on the busy core: 2-4 % of the machine idle under sign-ins, 4-5 %
 * in a probe of argon2 alone (docs/performance.md, change 17). With as many
 * threads as hashes at once, the hashing pool can leave each thread's next
 * hash waiting in libuv's queue, and a thread that finishes one starts the
 * next without waking anything.
 */
export function sizeThreadpool(threads: number, env: NodeJS.ProcessEnv = process.env): number {
  const set = env.UV_THREADPOOL_SIZE;
  if (set === undefined || set === '') {
    env.UV_THREADPOOL_SIZE = String(threads);
  }
  return threadpoolSize(env);
}

/**
 * The size libuv gives its thread pool for this UV_THREADPOOL_SIZE: 4 when it
 * is unset or empty, otherwise atoi into an unsigned count, 0 (or no number)
 * meaning 1, at most 1024. The configuration reads it (`hashing.threads`):
 * loaded after `sizeThreadpool`, it sees the size main.ts gave the pool.
 */
export function threadpoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const set = env.UV_THREADPOOL_SIZE;
  if (set === undefined || set === '') {
    return DEFAULT_THREADS;
  }
  const parsed = Number.parseInt(set, 10) || 0;
  return parsed === 0 ? 1 : parsed < 0 || parsed > MAX_THREADS ? MAX_THREADS : parsed;
}
