import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

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

/**
 * Every word of a set of dictionaries, sorted by UTF-16 code unit, with a bit
 * per dictionary holding it: the words that start with any given string are
 * one run of the array, found by narrowing the run one character at a time.
 * The runs of the one- and two-character starts are kept in a table, as most
 * of the narrowing's steps (and of its cache misses) would be spent on them.
 */
class SortedWords {
  readonly words: string[];
  readonly masks: Uint32Array;
  /** The run of the words that start with one character (its code) or two ((code + 1) × 65536 + code). */
  private readonly runs = new Map<number, { lo: number; hi: number }>();

  constructor(
    readonly names: string[],
    readonly tables: Record<string, unknown>[],
    readonly maxWordSizes: number[],
    extraWords: readonly string[] = [],
  ) {
    const maskOf = new Map<string, number>();
    for (let d = 0; d < tables.length; d += 1) {
      const bit = 1 << d;
      for (const word of Object.keys(tables[d])) {
        const mask = maskOf.get(word);
        maskOf.set(word, mask === undefined ? bit : mask | bit);
      }
    }
    for (const word of extraWords) {
      maskOf.set(word, (maskOf.get(word) ?? 0) | 1);
    }
    this.words = [...maskOf.keys()].sort();
    this.masks = new Uint32Array(this.words.length);
    for (let k = 0; k < this.words.length; k += 1) {
      const word = this.words[k];
      this.masks[k] = maskOf.get(word) ?? 0;
      if (word.length > 0) {
        this.extendRun(word.charCodeAt(0), k);
      }
      if (word.length > 1) {
        this.extendRun((word.charCodeAt(0) + 1) * 65536 + word.charCodeAt(1), k);
      }
    }
  }

  private extendRun(start: number, at: number): void {
    const run = this.runs.get(start);
    if (run) {
      run.hi = at + 1;
    } else {
      this.runs.set(start, { lo: at, hi: at + 1 });
    }
  }

  /**
   * Narrows the run [lo, hi) of the words that start with `text`'s first
   * `size - 1` characters from `from` to those that also have `text`'s next
   * character next; returns [lo, hi), empty if none.
   */
  narrow(lo: number, hi: number, text: string, from: number, size: number): [number, number] {
    if (size <= 2) {
      const start =
        size === 1
          ? text.charCodeAt(from)
          : (text.charCodeAt(from) + 1) * 65536 + text.charCodeAt(from + 1);
      const run = this.runs.get(start);
      return run ? [run.lo, run.hi] : [0, 0];
    }
    const code = text.charCodeAt(from + size - 1);
    const first = this.lowerBound(lo, hi, size - 1, code);
    return [first, this.lowerBound(first, hi, size - 1, code + 1)];
  }

  /** The first index in [lo, hi) whose word's character at `at` is `code` or above (a word that ends before `at` sorts first). */
  lowerBound(lo: number, hi: number, at: number, code: number): number {
    const words = this.words;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const word = words[mid];
      if ((at < word.length ? word.charCodeAt(at) : -1) < code) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
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
  const matcher = internals.matching?.matchers?.dictionary;
  const prototype = matcher ? (Object.getPrototypeOf(matcher) as object) : undefined;
  const match = prototype
    ? (Object.getOwnPropertyDescriptor(prototype, 'match')?.value as unknown)
    : undefined;
  if (!options || typeof match !== 'function' || !isIndexable(options)) {
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
  if (match !== patched) {
    const original = match as (this: DictionaryMatcher, options: MatchOptions) => DictionaryMatch[];
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
    Object.defineProperty(prototype, 'match', {
      value: patched,
      writable: true,
      configurable: true,
    });
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
