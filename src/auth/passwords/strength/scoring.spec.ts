import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import {
  generatedPasswords,
  internals,
  unindexedChecker,
} from '../../../../test/support/strength-passwords';
import { speedUpScoring } from './scoring';
import { createStrengthChecker, strengthOptions } from './strength-checker';

interface ScoringInternals {
  password: string;
  makeBruteforceMatch(i: number, j: number): Record<string, unknown>;
}
const scoringOf = (factory: ZxcvbnFactory): ScoringInternals =>
  (factory as unknown as { scoring: ScoringInternals }).scoring;

describe('speedUpScoring', () => {
  const fast = createStrengthChecker('now');
  const reference = unindexedChecker();
  const names = ['reg.1@example.com', 'reg.1'];
  const result = (factory: ZxcvbnFactory, password: string): unknown => ({
    ...factory.check(password, names),
    calcTime: 0,
  });

  it.each([
    '',
    'a',
    'violet tractor harbour 42',
    'Tr0ub4dour&3correcthorse',
    'correct horse battery staple',
    'aaaaaaaaaaaa',
    'abcabcabcabc1990',
    'qwertyuiop12',
    '01/02/1987 jupiter',
  ])('should score %p exactly as zxcvbn-ts', (password) => {
    expect(result(fast, password)).toEqual(result(reference, password));
  });

  it('should score 150 generated passwords exactly as zxcvbn-ts', () => {
    const passwords = generatedPasswords(internals(reference).options.rankedDictionaries, 150, 11);
    for (const password of passwords) {
      expect({ password, result: result(fast, password) }).toEqual({
        password,
        result: result(reference, password),
      });
    }
  });

  it("should search for the least guessable sequence without zxcvbn-ts's own steps", () => {
    const scoring = Object.getPrototypeOf(scoringOf(fast)) as Record<string, () => unknown>;
    const update = jest.spyOn(scoring, 'update');
    const makeBruteforceMatch = jest.spyOn(scoring, 'makeBruteforceMatch');
    try {
      fast.check('violet tractor harbour 42', names);
      expect(update).not.toHaveBeenCalled();
      expect(makeBruteforceMatch).not.toHaveBeenCalled();
      // The same prototype: a checker that is not indexed still takes them.
      reference.check('violet tractor harbour 42', names);
      expect(update).toHaveBeenCalled();
    } finally {
      update.mockRestore();
      makeBruteforceMatch.mockRestore();
    }
  });

  it('should make bruteforce matches with their guesses already estimated', () => {
    const ours = scoringOf(fast);
    ours.password = 'abcdefgh';
    expect(ours.makeBruteforceMatch(1, 3)).toEqual({
      pattern: 'bruteforce',
      token: 'bcd',
      i: 1,
      j: 3,
      guesses: 1000,
      guessesLog10: expect.closeTo(3, 10) as number,
    });
    // One character: at least zxcvbn-ts's minimum for a single character, plus one.
    expect(ours.makeBruteforceMatch(2, 2)).toEqual(
      expect.objectContaining({ token: 'c', guesses: 11 }),
    );
    // zxcvbn-ts's own makes them bare, and estimates them each time it considers them.
    const theirs = scoringOf(reference);
    theirs.password = 'abcdefgh';
    expect(theirs.makeBruteforceMatch(1, 3)).toEqual({
      pattern: 'bruteforce',
      token: 'bcd',
      i: 1,
      j: 3,
    });
  });

  it('should leave a checker that is not indexed to zxcvbn-ts', () => {
    const plain = new ZxcvbnFactory(strengthOptions());
    expect(speedUpScoring(plain)).toBe(true);
    scoringOf(plain).password = 'abcdefgh';
    expect(scoringOf(plain).makeBruteforceMatch(1, 3)).not.toHaveProperty('guesses');
  });
});
