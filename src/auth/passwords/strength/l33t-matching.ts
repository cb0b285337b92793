import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { type DictionaryMatch, isIndexed } from './word-index';
import { ownMethod, replaceMethod, zxcvbnModule } from './zxcvbn-internals';

interface Change {
  i: number;
  letter: string;
  substitution: string;
}

/** One l33t reading of the password: its letters for the symbols, and where they were. */
interface Reading {
  password: string;
  changes: Change[];
  isFullSubstitution: boolean;
}

interface Extras {
  i: number;
  j: number;
  subs: { letter: string; substitution: string }[];
  subDisplay: string;
}

type L33tMatch = Omit<DictionaryMatch, 'l33t'> & { l33t: true } & Extras;

interface MatchOptions {
  password: string;
  [option: string]: unknown;
}

/** zxcvbn-ts's l33t matcher: a dictionary matcher run on each l33t reading of the password. */
interface L33tMatcher {
  options: { l33tMaxSubstitutions: number; trieNodeRoot: unknown };
  isAlreadyIncluded(matches: L33tMatch[], match: L33tMatch): boolean;
}

type Match = (this: L33tMatcher, options: MatchOptions) => DictionaryMatch[];
type MatchL33t = (this: L33tMatcher, options: MatchOptions) => L33tMatch[];
type CleanPasswords = (password: string, limit: number, trieRoot: unknown) => Reading[];

let patched: MatchL33t | undefined;

/**
 * Makes zxcvbn-ts's l33t matching, for an indexed checker (see
 * `indexDictionaries`), skip at once the dictionary matches of a reading that
 * hold none of its substitutions.
 *
 * zxcvbn-ts matches each l33t reading of the password (up to 16) against the
 * dictionaries, then, for every match, works out where it lies in the
 * password and what it substituted, copies it, looks for it among the matches
 * kept so far, and only then drops it if its token has no substitution: most
 * matches of a reading are words that hold none, and the unchanged password
 * is one of the readings. This works out where a match lies first, and drops
 * such a match before the rest; the matches kept, and the readings tried, are
 * the same (`l33t-matching.spec.ts`).
 *
 * Like `indexDictionaries`, this replaces a `match` method of a class that
 * zxcvbn-ts does not export, found through the checker's own matcher, and
 * runs zxcvbn-ts's own code for any checker not indexed. Returns false,
 * changing nothing, if zxcvbn-ts is not shaped as expected.
 */
export function speedUpL33tMatching(factory: ZxcvbnFactory): boolean {
  const matchers = (factory as unknown as { matching?: { matchers?: Record<string, object> } })
    .matching?.matchers;
  const found = ownMethod(matchers?.dictionaryL33t, 'match');
  const base = ownMethod(matchers?.dictionary, 'match');
  const cleanPasswords = zxcvbnModule(
    'matcher/dictionary/variants/matching/unmunger/getCleanPasswords.cjs',
  ) as CleanPasswords | undefined;
  if (
    !found ||
    !base ||
    Object.getPrototypeOf(found.prototype) !== base.prototype ||
    typeof (found.prototype as Partial<L33tMatcher>).isAlreadyIncluded !== 'function' ||
    typeof cleanPasswords !== 'function'
  ) {
    return false;
  }
  if (found.method !== patched) {
    const original = found.method as MatchL33t;
    const dictionary = base.prototype as { match: Match };
    patched = function (this: L33tMatcher, matchOptions: MatchOptions): L33tMatch[] {
      if (!isIndexed(this.options)) {
        return original.call(this, matchOptions);
      }
      return matchReadings.call(this, matchOptions, cleanPasswords, dictionary.match);
    };
    replaceMethod(found.prototype, 'match', patched);
  }
  return true;
}

/** zxcvbn-ts's l33t matching, with the matches that hold no substitution dropped first. */
function matchReadings(
  this: L33tMatcher,
  matchOptions: MatchOptions,
  cleanPasswords: CleanPasswords,
  dictionaryMatch: Match,
): L33tMatch[] {
  const password = matchOptions.password;
  const matches: L33tMatch[] = [];
  const readings = cleanPasswords(
    password,
    this.options.l33tMaxSubstitutions,
    this.options.trieNodeRoot,
  );
  let hasFullMatch = false;
  for (const reading of readings) {
    if (hasFullMatch) {
      break;
    }
    const found = dictionaryMatch.call(this, {
      ...matchOptions,
      password: reading.password,
      useLevenshtein: reading.isFullSubstitution,
    });
    for (const match of found) {
      const [i, j] = unsubstituted(reading.changes, match.i, match.j);
      if (!hasFullMatch) {
        hasFullMatch = i === 0 && j === password.length - 1;
      }
      const token = password.slice(i, j + 1);
      if (token.toLowerCase() === match.matchedWord) {
        continue;
      }
      const newMatch: L33tMatch = {
        ...match,
        l33t: true,
        token,
        i,
        j,
        ...substitutionsIn(reading.changes, match.i, match.j),
      };
      if (!this.isAlreadyIncluded(matches, newMatch)) {
        matches.push(newMatch);
      }
    }
  }
  // As zxcvbn-ts: single-character l33t matches ('1' for 'i', '4' for 'a') are noise.
  return matches.filter((match) => match.token.length > 1);
}

/** Where the reading's [i, j] lies in the password. */
function unsubstituted(changes: Change[], i: number, j: number): [number, number] {
  let from = i;
  let to = j;
  for (const change of changes) {
    const diff = change.substitution.length - change.letter.length;
    if (change.i < i) {
      from += diff;
      to += diff;
    } else if (change.i <= j) {
      to += diff;
    }
  }
  return [from, to];
}

/** zxcvbn-ts's substitutions of a l33t match over the reading's [i, j]: each distinct one once. */
function substitutionsIn(
  changes: Change[],
  i: number,
  j: number,
): Pick<Extras, 'subs' | 'subDisplay'> {
  const subs: Extras['subs'] = [];
  const subDisplay: string[] = [];
  const seen = new Set<string>();
  for (const change of changes) {
    const key = `${change.letter}-${change.substitution}`;
    if (change.i >= i && change.i <= j && !seen.has(key)) {
      seen.add(key);
      subs.push({ letter: change.letter, substitution: change.substitution });
      subDisplay.push(`${change.substitution} -> ${change.letter}`);
    }
  }
  return { subs, subDisplay: subDisplay.join(', ') };
}
