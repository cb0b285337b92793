interface Waiting<K, V> {
  key: K;
  callers: Array<{ resolve: (value: V | undefined) => void; reject: (error: unknown) => void }>;
}

/**
 * Coalesces concurrent lookups into one query each round trip. At most
 * `maxInFlight` queries run at a time; a lookup made while they are all
 * running waits for the next one, together with every other lookup that
 * arrived meanwhile (the same key once). Under light load nothing waits: a
 * lookup is its own query at once. A lookup is never answered by a query
 * sent before it arrived, so it sees everything committed before it was made.
 */
export class BatchedLookup<K, V> {
  private readonly waiting = new Map<string, Waiting<K, V>>();
  private inFlight = 0;

  constructor(
    /** Answers for the keys, by `idOf(key)`; a key without an answer resolves to undefined. */
    private readonly fetch: (keys: K[]) => Promise<Map<string, V>>,
    private readonly idOf: (key: K) => string,
    private readonly maxInFlight: number,
    private readonly maxBatch = 256,
  ) {}

  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const id = this.idOf(key);
      const entry = this.waiting.get(id);
      if (entry) {
        entry.callers.push({ resolve, reject });
      } else {
        this.waiting.set(id, { key, callers: [{ resolve, reject }] });
      }
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.size > 0) {
      const batch = new Map<string, Waiting<K, V>>();
      for (const [id, entry] of this.waiting) {
        batch.set(id, entry);
        this.waiting.delete(id);
        if (batch.size === this.maxBatch) {
          break;
        }
      }
      this.inFlight += 1;
      this.run(batch);
    }
  }

  private run(batch: Map<string, Waiting<K, V>>): void {
    const answer = (found: Map<string, V>) => {
      this.inFlight -= 1;
      for (const [id, entry] of batch) {
        const value = found.get(id);
        for (const caller of entry.callers) {
          caller.resolve(value);
        }
      }
      this.pump();
    };
    const fail = (error: unknown) => {
      this.inFlight -= 1;
      for (const entry of batch.values()) {
        for (const caller of entry.callers) {
          caller.reject(error);
        }
      }
      this.pump();
    };
    try {
      this.fetch(Array.from(batch.values(), (entry) => entry.key)).then(answer, fail);
    } catch (error) {
      fail(error);
    }
  }
}
