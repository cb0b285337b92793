/**
 * Every word of a set of dictionaries, sorted by UTF-16 code unit, with a bit
 * per dictionary holding it: the words that start with any given string are
 * one run of the array, found by narrowing the run one character at a time.
 * The runs of the one- and two-character starts are kept in a table, as most
 * of the narrowing's steps (and of its cache misses) would be spent on them.
 */
export class SortedWords {
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
