import type { OptionsType, ZxcvbnFactory } from '@zxcvbn-ts/core';
import { speedUpL33tMatching } from './l33t-matching';
import { speedUpScoring } from './scoring';
import { indexDictionaries } from './word-index';

/**
 * zxcvbn runs on the event loop and its cost grows fast with length and l33t
 * substitutions (a 128-character 'aB3$…' took 420 ms): these bounds keep the
 * worst case near 45 ms while still catching common and l33t-spelt passwords.
 * Levenshtein matching is off for the same reason (260 ms on 'password123').
 */
const STRENGTH_LIMITS = { maxLength: 64, l33tMaxSubstitutions: 16, useLevenshteinDistance: false };

type RankedDictionaries = Record<string, Record<string, number>>;

/**
 * zxcvbn-ts's options: the common and English dictionaries, the adjacency
 * graphs, English feedback and STRENGTH_LIMITS. Loaded on call: loading the
 * dictionaries takes a tenth of a second.
 */
export function strengthOptions(): OptionsType {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const common =
    require('@zxcvbn-ts/language-common') as typeof import('@zxcvbn-ts/language-common');
  const english = require('@zxcvbn-ts/language-en') as typeof import('@zxcvbn-ts/language-en');
  /* eslint-enable @typescript-eslint/no-require-imports */
  return {
    dictionary: { ...common.dictionary, ...english.dictionary },
    graphs: common.adjacencyGraphs,
    translations: english.translations,
    ...STRENGTH_LIMITS,
  };
}

/**
 * zxcvbn-ts with {@link strengthOptions}, its dictionaries in the shape V8
 * looks words up fastest (see {@link asLookupTables}), indexed for its
 * dictionary matching (see {@link indexDictionaries}), with a quicker l33t
 * matching and scoring on top of the index ({@link speedUpL33tMatching},
 * {@link speedUpScoring}). Loaded on call: loading and ranking the
 * dictionaries takes about a third of a second, indexing them a quarter. With
 * `index: 'soon'` the index is built in a later turn of the event loop, so
 * that neither step holds it for the whole time; checks made before then get
 * the same answers, only slower.
 */
export function createStrengthChecker(index: 'now' | 'soon' = 'now'): ZxcvbnFactory {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ZxcvbnFactory: Factory } = require('@zxcvbn-ts/core') as typeof import('@zxcvbn-ts/core');
  const factory = new Factory(strengthOptions());
  const options = (factory as unknown as { options?: { rankedDictionaries?: unknown } }).options;
  if (options && isRankedDictionaries(options.rankedDictionaries)) {
    options.rankedDictionaries = asLookupTables(options.rankedDictionaries);
  }
  if (index === 'now') {
    speedUpMatching(factory);
  } else {
    setImmediate(() => {
      try {
        speedUpMatching(factory);
      } catch {
        // Left unindexed: slower, still right.
      }
    }).unref();
  }
  return factory;
}

let shared: ZxcvbnFactory | undefined;

/**
 * The process's checker, made by the first call ({@link createStrengthChecker}
 * with `'soon'`). It holds no state between checks (a check's user inputs are
 * its own), so every app in the process can share it: one in the service, and
 * in the tests, where a file starts several apps, one build instead of one per
 * app.
 */
export function sharedStrengthChecker(): ZxcvbnFactory {
  shared ??= createStrengthChecker('soon');
  return shared;
}

function speedUpMatching(factory: ZxcvbnFactory): void {
  if (indexDictionaries(factory)) {
    speedUpL33tMatching(factory);
    speedUpScoring(factory);
  }
}

/**
 * The same word → rank tables, as prototype-less objects in V8's dictionary
 * mode.
 *
 * zxcvbn-ts looks every substring of the password (and of its l33t and
 * reversed variants) up in each of its twenty dictionaries, one property read
 * per dictionary, at one place in its code. It builds them as ordinary objects:
 * the small ones (months, planets…) in V8's fast mode, each with its own hidden
 * class, the large ones in dictionary mode, all with `Object.prototype` behind
 * them. That read then sees some twenty shapes and misses V8's caches every
 * time, and each word not found is looked up again on `Object.prototype`
 * (where `constructor` or `toString` would even be found). As prototype-less
 * dictionaries they all share one shape: a check of a 25-character passphrase
 * takes 5.9 ms instead of 11.2 on this machine, with the same matches, score
 * and feedback (`strength-checker.spec.ts`).
 *
 * The tables are the factory's own private state: if a later zxcvbn-ts keeps
 * them otherwise, `createStrengthChecker` leaves them as they are (slower, still
 * right) and the spec, which checks that they were rebuilt, fails.
 */
export function asLookupTables(dictionaries: RankedDictionaries): RankedDictionaries {
  const tables: RankedDictionaries = {};
  for (const [name, ranks] of Object.entries(dictionaries)) {
    const table = Object.create(null) as Record<string, number>;
    // A property added and then deleted first moves the object to dictionary mode.
    table[' '] = 0;
    for (const word of Object.keys(ranks)) {
      table[word] = ranks[word];
    }
    if (!Object.prototype.hasOwnProperty.call(ranks, ' ')) {
      delete table[' '];
    }
    tables[name] = table;
  }
  return tables;
}

function isRankedDictionaries(value: unknown): value is RankedDictionaries {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every((ranks) => typeof ranks === 'object' && ranks !== null)
  );
}
