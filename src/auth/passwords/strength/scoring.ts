import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { isIndexed } from './word-index';
import { ownMethod, replaceMethod, zxcvbnModule } from './zxcvbn-internals';

interface Match {
  pattern: string;
  token: string;
  i: number;
  j: number;
  guesses?: number | null;
}

/** zxcvbn-ts's scoring: the least guessable sequence of non-overlapping matches. */
interface Scoring {
  options: object;
  password: string;
  mostGuessableMatchSequence(
    password: string,
    matches: Match[],
    excludeAdditive?: boolean,
  ): unknown;
  makeBruteforceMatch(i: number, j: number): Match;
}

/** The parts of zxcvbn-ts's scoring code that the search and the bruteforce estimate need. */
interface Estimating {
  estimate(options: object, match: Match, password: string): Match;
  bruteforceGuesses(match: { token: string }): number;
  log10(n: number): number;
  factorial(n: number): number;
  minSingleChar: number;
  minMultiChar: number;
  minGuessesBeforeGrowingSequence: number;
}

/** What zxcvbn-ts's search returns. */
interface SequenceResult {
  password: string;
  guesses: number;
  guessesLog10: number;
  sequence: Match[];
}

let patched:
  | { sequence: Scoring['mostGuessableMatchSequence']; bruteforce: Scoring['makeBruteforceMatch'] }
  | undefined;

/**
 * Makes zxcvbn-ts's scoring, for an indexed checker (see `indexDictionaries`),
 * estimate each match's guesses once.
 *
 * zxcvbn-ts's search for the least guessable sequence estimates a match every
 * time it considers it (once per length of the sequences it could end), each
 * time copying it into a new object with its guesses, and makes a bruteforce
 * match for every span of the password (300 for 25 characters), estimated the
 * same way. Its estimate returns a match that already has its guesses as it
 * is. So the matches are estimated once before the search, and each
 * bruteforce match is made with its guesses, computed as zxcvbn-ts's estimate
 * does; the search itself runs on flat arrays ({@link leastGuessableSequence}).
 * The same sequence, guesses and feedback (`scoring.spec.ts`), in a third less
 * time for a check of the bench's passphrase than with zxcvbn-ts's search.
 *
 * Like `indexDictionaries`, this replaces methods of a class zxcvbn-ts does
 * not export, found through the checker's own scoring, and runs zxcvbn-ts's
 * own code for any checker not indexed. Returns false, changing nothing, if
 * zxcvbn-ts is not shaped as expected.
 */
export function speedUpScoring(factory: ZxcvbnFactory): boolean {
  const scoring = (factory as unknown as { scoring?: object }).scoring;
  const sequence = ownMethod(scoring, 'mostGuessableMatchSequence');
  const bruteforce = ownMethod(scoring, 'makeBruteforceMatch');
  const estimating = loadEstimating();
  if (!sequence || !bruteforce || !estimating) {
    return false;
  }
  if (sequence.method === patched?.sequence && bruteforce.method === patched?.bruteforce) {
    return true;
  }
  const originalSequence = sequence.method as Scoring['mostGuessableMatchSequence'];
  const originalBruteforce = bruteforce.method as Scoring['makeBruteforceMatch'];
  patched = {
    sequence: function (this: Scoring, password, matches, excludeAdditive) {
      if (!isIndexed(this.options)) {
        return originalSequence.call(this, password, matches, excludeAdditive);
      }
      const estimated = matches.map((match) => estimating.estimate(this.options, match, password));
      return (
        leastGuessableSequence(estimating, password, estimated, excludeAdditive) ??
        originalSequence.call(this, password, estimated, excludeAdditive)
      );
    },
    bruteforce: function (this: Scoring, i, j) {
      if (!isIndexed(this.options)) {
        return originalBruteforce.call(this, i, j);
      }
      return estimatedBruteforce(estimating, this.password, i, j);
    },
  };
  replaceMethod(sequence.prototype, 'mostGuessableMatchSequence', patched.sequence);
  replaceMethod(bruteforce.prototype, 'makeBruteforceMatch', patched.bruteforce);
  return true;
}

/**
 * zxcvbn-ts's search for the least guessable sequence of non-overlapping
 * matches (`Scoring.mostGuessableMatchSequence`, a dynamic programme over the
 * password's prefixes and the sequences' lengths), on matches already
 * estimated, with the same arithmetic in the same order and the same ties.
 * Where zxcvbn-ts keeps each prefix's best sequences in objects keyed by
 * length (and reads them with `Object.keys` and `parseInt` at every step), this
 * keeps them in flat arrays; where it makes (and estimates) a bruteforce
 * match for each of the password's spans, this makes one only for a span that
 * ends a best sequence. Undefined when no sequence covers the whole password
 * (zxcvbn-ts's own search then decides what happens).
 */
function leastGuessableSequence(
  estimating: Estimating,
  password: string,
  matches: Match[],
  excludeAdditive = false,
): SequenceResult | undefined {
  const n = password.length;
  if (n === 0) {
    return { password, guesses: 1, guessesLog10: estimating.log10(1), sequence: [] };
  }
  const byEnd: Match[][] = Array.from({ length: n }, () => []);
  for (const match of matches) {
    byEnd[match.j].push(match);
  }
  for (const ending of byEnd) {
    ending.sort((m1, m2) => m1.i - m2.i);
  }
  // Slot k * width + l: the best sequence of l matches covering password[0..k].
  const width = n + 1;
  const best: (Match | undefined)[] = new Array<Match | undefined>(n * width);
  const total = new Float64Array(n * width);
  const product = new Float64Array(n * width);
  // The longest sequence kept for each prefix, so that a scan stops there.
  const longest = new Int32Array(n);
  const growth = estimating.minGuessesBeforeGrowingSequence;

  /** zxcvbn-ts's `update`: keeps `match` as the end of an l-long sequence if none as short is as good. */
  const consider = (match: Match, l: number): void => {
    const k = match.j;
    let pi = match.guesses as number;
    if (l > 1) {
      pi *= product[(match.i - 1) * width + l - 1];
    }
    let g = estimating.factorial(l) * pi;
    if (!excludeAdditive) {
      g += growth ** (l - 1);
    }
    const row = k * width;
    for (let shorter = 1; shorter <= Math.min(l, longest[k]); shorter += 1) {
      if (best[row + shorter] !== undefined && total[row + shorter] <= g) {
        return;
      }
    }
    total[row + l] = g;
    product[row + l] = pi;
    best[row + l] = match;
    longest[k] = Math.max(longest[k], l);
  };

  for (let k = 0; k < n; k += 1) {
    for (const match of byEnd[k]) {
      if (match.i > 0) {
        const previous = (match.i - 1) * width;
        const upTo = longest[match.i - 1];
        for (let l = 1; l <= upTo; l += 1) {
          if (best[previous + l] !== undefined) {
            consider(match, l + 1);
          }
        }
      } else {
        consider(match, 1);
      }
    }
    // zxcvbn-ts's `bruteforceUpdate`: one bruteforce match over password[i..k] for each i.
    consider(estimatedBruteforce(estimating, password, 0, k), 1);
    for (let i = 1; i <= k; i += 1) {
      const previous = (i - 1) * width;
      const upTo = longest[i - 1];
      // Made once, however many sequences it ends.
      let span: Match | undefined;
      for (let l = 1; l <= upTo; l += 1) {
        const last = best[previous + l];
        // Two bruteforce matches side by side are never better than one over both.
        if (last !== undefined && last.pattern !== 'bruteforce') {
          span ??= estimatedBruteforce(estimating, password, i, k);
          consider(span, l + 1);
        }
      }
    }
  }

  // zxcvbn-ts's `unwind`: the length with the fewest total guesses (the shortest on a tie).
  const lastRow = (n - 1) * width;
  let length = 0;
  let fewest = Number.POSITIVE_INFINITY;
  for (let l = 1; l <= longest[n - 1]; l += 1) {
    if (best[lastRow + l] !== undefined && total[lastRow + l] < fewest) {
      length = l;
      fewest = total[lastRow + l];
    }
  }
  if (length === 0) {
    return undefined;
  }
  const guesses = total[lastRow + length];
  const sequence: Match[] = [];
  for (let k = n - 1, l = length; k >= 0; l -= 1) {
    const match = best[k * width + l] as Match;
    sequence.unshift(match);
    k = match.i - 1;
  }
  return { password, guesses, guessesLog10: estimating.log10(guesses), sequence };
}

/**
 * zxcvbn-ts's bruteforce match over [i, j], as its estimate returns it: the
 * bruteforce guesses, at least the minimum for a part of the password (one
 * character or more) unless it is the whole password.
 */
function estimatedBruteforce(
  estimating: Estimating,
  password: string,
  i: number,
  j: number,
): Match {
  const token = password.slice(i, j + 1 || 9e9);
  let minGuesses = 1;
  if (token.length < password.length) {
    minGuesses = token.length === 1 ? estimating.minSingleChar : estimating.minMultiChar;
  }
  const guesses = Math.max(estimating.bruteforceGuesses({ token }), minGuesses);
  return {
    pattern: 'bruteforce',
    token,
    i,
    j,
    guesses,
    guessesLog10: estimating.log10(guesses),
  } as Match;
}

/** zxcvbn-ts's estimate, bruteforce guesses and constants; undefined if it keeps them elsewhere. */
function loadEstimating(): Estimating | undefined {
  const estimate = zxcvbnModule('scoring/estimate.cjs');
  const bruteforceGuesses = zxcvbnModule('matcher/bruteforce/scoring.cjs');
  const utils = zxcvbnModule('scoring/utils.cjs') as
    { log10?: unknown; factorial?: unknown } | undefined;
  const constants = zxcvbnModule('data/const.cjs') as Record<string, unknown> | undefined;
  const minSingleChar = constants?.MIN_SUBMATCH_GUESSES_SINGLE_CHAR;
  const minMultiChar = constants?.MIN_SUBMATCH_GUESSES_MULTI_CHAR;
  const minGuessesBeforeGrowingSequence = constants?.MIN_GUESSES_BEFORE_GROWING_SEQUENCE;
  if (
    typeof estimate !== 'function' ||
    typeof bruteforceGuesses !== 'function' ||
    typeof utils?.log10 !== 'function' ||
    typeof utils.factorial !== 'function' ||
    typeof minSingleChar !== 'number' ||
    typeof minMultiChar !== 'number' ||
    typeof minGuessesBeforeGrowingSequence !== 'number'
  ) {
    return undefined;
  }
  return {
    estimate: estimate as Estimating['estimate'],
    bruteforceGuesses: bruteforceGuesses as Estimating['bruteforceGuesses'],
    log10: utils.log10 as Estimating['log10'],
    factorial: utils.factorial as Estimating['factorial'],
    minSingleChar,
    minMultiChar,
    minGuessesBeforeGrowingSequence,
  };
}
