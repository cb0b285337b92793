import { setFlagsFromString } from 'node:v8';

/** V8's flag that turns allocation-site pretenuring off. */
export const NO_PRETENURING = '--no-allocation-site-pretenuring';

/**
 * Turns V8's allocation-site pretenuring off for the server process.
 *
 * V8 watches how many objects made at each place in the code survive a
 * young-generation collection, and once most of them do, allocates that
 * place's objects straight in the old generation. Under load the service's
 * requests trip it: at 50 connections on `GET /users/me`, the objects of a
 * request in flight during a collection (the response's header string,
 * Node's and Fastify's request objects) survive it, V8 starts making them in
 * the old generation, they die there a few milliseconds later, and only a
 * full mark-compact frees them: ~25 MB a second went to the old generation,
 * with a mark-compact every second taking 10-18 ms, which were most of the
 * p99. Without pretenuring they die young: 0-2 mark-compacts in 8 s instead
 * of 9-10, p99 16-23 ms instead of 31-40 (docs/performance.md).
 *
 * A run-time flag, read when V8 decides, so setting it once at start is
 * enough; `main.ts` does, for every process that serves (cluster workers
 * included). Tests and the CLI keep V8's default.
 */
export function tuneGarbageCollection(
  setFlags: (flags: string) => void = setFlagsFromString,
): void {
  setFlags(NO_PRETENURING);
}
