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

/** The parts of zxcvbn-ts's scoring code that the bruteforce estimate needs. */
interface Estimating {
  estimate(options: object, match: Match, password: string): Match;
  bruteforceGuesses(match: { token: string }): number;
  log10(n: number): number;
  minSingleChar: number;
  minMultiChar: number;
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
 * does: the same sequence, guesses and feedback (`scoring.spec.ts`), a fifth
 * less time for a check.
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
      return originalSequence.call(this, password, estimated, excludeAdditive);
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
  const utils = zxcvbnModule('scoring/utils.cjs') as { log10?: unknown } | undefined;
  const constants = zxcvbnModule('data/const.cjs') as Record<string, unknown> | undefined;
  const minSingleChar = constants?.MIN_SUBMATCH_GUESSES_SINGLE_CHAR;
  const minMultiChar = constants?.MIN_SUBMATCH_GUESSES_MULTI_CHAR;
  if (
    typeof estimate !== 'function' ||
    typeof bruteforceGuesses !== 'function' ||
    typeof utils?.log10 !== 'function' ||
    typeof minSingleChar !== 'number' ||
    typeof minMultiChar !== 'number'
  ) {
    return undefined;
  }
  return {
    estimate: estimate as Estimating['estimate'],
    bruteforceGuesses: bruteforceGuesses as Estimating['bruteforceGuesses'],
    log10: utils.log10 as Estimating['log10'],
    minSingleChar,
    minMultiChar,
  };
}
