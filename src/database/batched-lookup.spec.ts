import { BatchedLookup } from './batched-lookup';

/** A fetch whose calls stay open until the test settles them. */
function controlledFetch() {
  const calls: Array<{
    keys: string[];
    answer: (found: Record<string, string>) => void;
    fail: (error: Error) => void;
  }> = [];
  const fetch = (keys: string[]) =>
    new Promise<Map<string, string>>((resolve, reject) => {
      calls.push({
        keys,
        answer: (found) => resolve(new Map(Object.entries(found))),
        fail: reject,
      });
    });
  return { calls, fetch };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('BatchedLookup', () => {
  it('should send a lone lookup at once, as a batch of one', async () => {
    const { calls, fetch } = controlledFetch();
    const lookup = new BatchedLookup(fetch, (key: string) => key, 2);
    const answer = lookup.load('a');
    expect(calls.map((c) => c.keys)).toEqual([['a']]);
    calls[0].answer({ a: 'A' });
    await expect(answer).resolves.toBe('A');
  });

  it('should send lookups made while the statements run together, each key once, in arrival order', async () => {
    const { calls, fetch } = controlledFetch();
    const lookup = new BatchedLookup(fetch, (key: string) => key, 2);
    const first = [lookup.load('a'), lookup.load('b')];
    const waiting = [lookup.load('c'), lookup.load('d'), lookup.load('c'), lookup.load('e')];
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b']]);

    calls[1].answer({ b: 'B' });
    await tick();
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b'], ['c', 'd', 'e']]);
    calls[2].answer({ c: 'C', e: 'E' });
    calls[0].answer({ a: 'A' });
    expect(await Promise.all([...first, ...waiting])).toEqual(['A', 'B', 'C', undefined, 'C', 'E']);
  });

  it('should never answer a lookup with a statement sent before it was made', async () => {
    const { calls, fetch } = controlledFetch();
    const lookup = new BatchedLookup(fetch, (key: string) => key, 1);
    const early = lookup.load('a');
    const late = lookup.load('a');
    // The same key, but the first statement was already on its way: the second waits for its own.
    expect(calls).toHaveLength(1);
    calls[0].answer({ a: 'before' });
    await expect(early).resolves.toBe('before');
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['a']]);
    calls[1].answer({});
    await expect(late).resolves.toBeUndefined();
  });

  it('should fail only the lookups of the statement that failed, then carry on', async () => {
    const { calls, fetch } = controlledFetch();
    const lookup = new BatchedLookup(fetch, (key: string) => key, 1);
    const a = lookup.load('a');
    const b = lookup.load('b');
    const c = lookup.load('c');
    calls[0].fail(new Error('connection lost'));
    await expect(a).rejects.toThrow('connection lost');
    expect(calls[1].keys).toEqual(['b', 'c']);
    calls[1].fail(new Error('still down'));
    await expect(b).rejects.toThrow('still down');
    await expect(c).rejects.toThrow('still down');
    const d = lookup.load('d');
    calls[2].answer({ d: 'D' });
    await expect(d).resolves.toBe('D');
  });

  it('should turn a fetch that throws into rejected lookups', async () => {
    let fail = true;
    const lookup = new BatchedLookup(
      (keys: string[]) => {
        if (fail) {
          throw new Error('bad statement');
        }
        return Promise.resolve(new Map(keys.map((key) => [key, key.toUpperCase()])));
      },
      (key: string) => key,
      1,
    );
    await expect(lookup.load('a')).rejects.toThrow('bad statement');
    fail = false;
    await expect(lookup.load('b')).resolves.toBe('B');
  });

  it('should cap a statement at maxBatch keys and keep the rest for the next', async () => {
    const { calls, fetch } = controlledFetch();
    const lookup = new BatchedLookup(fetch, (key: string) => key, 1, 3);
    const all = ['a', 'b', 'c', 'd', 'e', 'f'].map((key) => lookup.load(key));
    calls[0].answer({ a: '1' });
    await tick();
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b', 'c', 'd']]);
    calls[1].answer({ b: '2', c: '3', d: '4' });
    await tick();
    expect(calls[2].keys).toEqual(['e', 'f']);
    calls[2].answer({ e: '5', f: '6' });
    expect(await Promise.all(all)).toEqual(['1', '2', '3', '4', '5', '6']);
  });
});
