import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { SortedWords } from './sorted-words';
import { ownMethod, replaceMethod } from './zxcvbn-internals';

/** A dictionary match, in the shape and key order zxcvbn-ts's dictionary matcher makes. */
export interface DictionaryMatch {
  pattern: 'dictionary';
  i: number;
  j: number;
  token: string;
  matchedWord: string;
  rank: unknown;
  dictionaryName: string;
  reversed: false;
  l33t: false;
}

interface UserInputsOptions {
  rankedDictionary: Record<string, unknown>;
  rankedDictionaryMaxWordSize: number;
}

interface MatcherOptions {
  rankedDictionaries: Record<string, Record<string, unknown>>;
  rankedDictionariesMaxWordSize: Record<string, number>;
  useLevenshteinDistance: boolean;
  isWordSequence(name: string): boolean;
}

/** zxcvbn-ts's dictionary matcher, whose `match` its l33t, reversed and word-sequence matchers call. */
interface DictionaryMatcher {
  options: MatcherOptions;
  wordSequenceCheck?: boolean;
  match(this: DictionaryMatcher, options: MatchOptions): DictionaryMatch[];
}

interface MatchOptions {
  password: string;
  userInputsOptions?: UserInputsOptions;
  useLevenshtein?: boolean;
}

/** The indexes of one zxcvbn-ts options object: all its dictionaries, and the word-sequence ones. */
interface OptionsIndex {
  tables: MatcherOptions['rankedDictionaries'];
  all: SortedWords;
  wordSequences: SortedWords;
}

const indexes = new WeakMap<object, OptionsIndex>();
const userIndexes = new WeakMap<object, SortedWords>();
/**
 * The names that a lowercase substring can find on `Object.prototype`, so on
 * the user-inputs dictionary zxcvbn-ts builds as an ordinary object: it
 * matches them too (with the inherited value for a rank), and so does the index.
 */
const INHERITED_NAMES = Object.getOwnPropertyNames(Object.prototype).filter(
  (name) => name === name.toLowerCase(),
);
let patched: ((this: DictionaryMatcher, options: MatchOptions) => DictionaryMatch[]) | undefined;

/**
 * Makes zxcvbn-ts's dictionary matching, for this checker, look each start
 * position of the password up in one sorted index of all its dictionaries,
 * stopping at the first substring that starts no word.
 *
 * zxcvbn-ts looks every substring of up to 23 characters (its longest word)
 * up in each of its twenty dictionaries, and does so for the password, its
 * reverse, each of up to 16 l33t readings, and again for the word-sequence
 * dictionaries: some 36 passes of ~500 substrings × 20 lookups for a
 * 25-character passphrase, most of a check's time. Few substrings longer than
 * four or five characters start any word, so the index ends each start
 * position after a few steps of binary search on character codes, and slices
 * a substring only for a word found. The matches are the same objects in the
 * same order (`word-index.spec.ts` checks them against zxcvbn-ts's own on
 * generated passwords); Levenshtein matching, off here, keeps zxcvbn-ts's own
 * code.
 *
 * zxcvbn-ts does not export its matchers, so this replaces the `match` method
 * of their common class, found through the checker's own matcher. The
 * replacement serves only the options objects indexed here (any other checker
 * in the process runs zxcvbn-ts's code) and only while their dictionaries
 * are the ones indexed. Returns false, changing nothing, if zxcvbn-ts is not
 * shaped as expected.
 */
export function indexDictionaries(factory: ZxcvbnFactory): boolean {
  const internals = factory as unknown as {
    options?: MatcherOptions;
    matching?: { matchers?: Record<string, unknown> };
  };
  const options = internals.options;
  const found = ownMethod(internals.matching?.matchers?.dictionary as object | undefined, 'match');
  if (!options || !found || !isIndexable(options)) {
    return false;
  }
  const names = Object.keys(options.rankedDictionaries);
  const sortedWords = (subset: string[]): SortedWords =>
    new SortedWords(
      subset,
      subset.map((name) => options.rankedDictionaries[name]),
      subset.map((name) => options.rankedDictionariesMaxWordSize[name] ?? 0),
    );
  indexes.set(options, {
    tables: options.rankedDictionaries,
    all: sortedWords(names),
    wordSequences: sortedWords(names.filter((name) => options.isWordSequence(name))),
  });
  if (found.method !== patched) {
    const original = found.method as (
      this: DictionaryMatcher,
      options: MatchOptions,
    ) => DictionaryMatch[];
    patched = function (this: DictionaryMatcher, matchOptions: MatchOptions): DictionaryMatch[] {
      const index = servingIndex(this.options);
      if (!index) {
        return original.call(this, matchOptions);
      }
      const userInputs = this.wordSequenceCheck ? undefined : matchOptions.userInputsOptions;
      return matchIndexed(
        matchOptions.password,
        this.wordSequenceCheck ? index.wordSequences : index.all,
        userInputs && userIndex(userInputs),
      );
    };
    replaceMethod(found.prototype, 'match', patched);
  }
  return true;
}

/** The index of these options, while their dictionaries are the ones indexed and Levenshtein matching is off. */
function servingIndex(options: MatcherOptions): OptionsIndex | undefined {
  const index = indexes.get(options);
  return index && index.tables === options.rankedDictionaries && !options.useLevenshteinDistance
    ? index
    : undefined;
}

/** Whether {@link indexDictionaries} serves the dictionary matching of these zxcvbn-ts options. */
export function isIndexed(options: object): boolean {
  return servingIndex(options as MatcherOptions) !== undefined;
}

/** At most 31 dictionaries (one bit each), as prototype-less tables, none named `userInputs`. */
function isIndexable(options: MatcherOptions): boolean {
  const tables = Object.entries(options.rankedDictionaries ?? {});
  return (
    typeof options.isWordSequence === 'function' &&
    tables.length <= 31 &&
    tables.every(([name, table]) => name !== 'userInputs' && Object.getPrototypeOf(table) === null)
  );
}

/** The user inputs of one check, indexed once for its ~36 passes. */
function userIndex(userInputs: UserInputsOptions): SortedWords {
  let index = userIndexes.get(userInputs);
  if (!index) {
    const table = userInputs.rankedDictionary;
    index = new SortedWords(
      ['userInputs'],
      [table],
      [Math.max(userInputs.rankedDictionaryMaxWordSize, 0)],
      INHERITED_NAMES.filter((name) => table[name] !== undefined),
    );
    userIndexes.set(userInputs, index);
  }
  return index;
}

/**
 * zxcvbn-ts's dictionary matches of `password`: for each start i and end j,
 * each dictionary holding the lowercase substring (its user inputs last),
 * skipping a dictionary whose longest word is shorter unless the substring is
 * the whole password, and no substring longer than the longest word of all
 * unless it is the whole password.
 */
function matchIndexed(password: string, words: SortedWords, user?: SortedWords): DictionaryMatch[] {
  const matches: DictionaryMatch[] = [];
  const length = password.length;
  const lower = password.toLowerCase();
  const sets = user ? [words, user] : [words];
  const maxSearchWidth = Math.max(0, ...sets.flatMap((set) => set.maxWordSizes));
  const lo = [0, 0];
  const hi = [0, 0];
  for (let i = 0; i < length; i += 1) {
    for (let s = 0; s < sets.length; s += 1) {
      lo[s] = 0;
      hi[s] = sets[s].words.length;
    }
    for (let j = i; j < length; j += 1) {
      const size = j - i + 1;
      const isFullPassword = i === 0 && j === length - 1;
      if (size > maxSearchWidth && !isFullPassword) {
        break;
      }
      let alive = false;
      for (let s = 0; s < sets.length; s += 1) {
        if (lo[s] >= hi[s]) {
          continue;
        }
        const set = sets[s];
        const [from, to] = set.narrow(lo[s], hi[s], lower, i, size);
        lo[s] = from;
        hi[s] = to;
        if (from >= to) {
          continue;
        }
        alive = true;
        const word = set.words[from];
        if (word.length === size) {
          pushMatches(matches, password, i, j, set, from, isFullPassword);
        }
      }
      if (!alive) {
        break;
      }
    }
  }
  return matches;
}

function pushMatches(
  matches: DictionaryMatch[],
  password: string,
  i: number,
  j: number,
  set: SortedWords,
  at: number,
  isFullPassword: boolean,
): void {
  const word = set.words[at];
  const mask = set.masks[at];
  for (let d = 0; d < set.names.length; d += 1) {
    if ((mask & (1 << d)) === 0 || (word.length > set.maxWordSizes[d] && !isFullPassword)) {
      continue;
    }
    matches.push({
      pattern: 'dictionary',
      i,
      j,
      token: password.slice(i, j + 1),
      matchedWord: word,
      rank: set.tables[d][word],
      dictionaryName: set.names[d],
      reversed: false,
      l33t: false,
    });
  }
}
