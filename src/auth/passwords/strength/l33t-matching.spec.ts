import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import {
  generatedPasswords,
  internals,
  unindexedChecker,
} from '../../../../test/support/strength-passwords';
import { speedUpL33tMatching } from './l33t-matching';
import { createStrengthChecker, strengthOptions } from './strength-checker';

const l33tMatches = (factory: ZxcvbnFactory, password: string): unknown[] =>
  internals(factory).matching.matchers.dictionaryL33t.match({ password });

/** How often l33t matching looks a match up among the kept ones, for a passphrase without l33t. */
function searchesAmongKept(factory: ZxcvbnFactory): number {
  const matcher = internals(factory).matching.matchers.dictionaryL33t as unknown as {
    isAlreadyIncluded: (...args: unknown[]) => boolean;
  };
  const spy = jest.spyOn(matcher, 'isAlreadyIncluded');
  l33tMatches(factory, 'correct horse battery staple');
  const calls = spy.mock.calls.length;
  spy.mockRestore();
  return calls;
}

describe('speedUpL33tMatching', () => {
  const fast = createStrengthChecker('now');
  const reference = unindexedChecker();

  it.each([
    'P@ssw0rd!',
    'Tr0ub4dour&3correcthorse',
    'violet tractor harbour 42',
    'p4$$w0rd',
    'h3ll0w0rld',
    '|_|nited',
    '4444aaaa',
    'l33tsp34k is 7h3 b3st',
    '1',
    'password',
  ])('should find the same l33t matches as zxcvbn-ts in %p', (password) => {
    expect(l33tMatches(fast, password)).toEqual(l33tMatches(reference, password));
  });

  it('should find the same l33t matches as zxcvbn-ts in 200 generated passwords', () => {
    const passwords = generatedPasswords(internals(reference).options.rankedDictionaries, 200, 7);
    let found = 0;
    for (const password of passwords) {
      const ours = l33tMatches(fast, password);
      expect({ password, matches: ours }).toEqual({
        password,
        matches: l33tMatches(reference, password),
      });
      found += ours.length;
    }
    // The generator spells plenty of words in l33t.
    expect(found).toBeGreaterThan(passwords.length);
  });

  it('should drop a match without substitutions before looking for it among the kept ones', () => {
    // zxcvbn-ts looks every match of every reading up among the matches kept so
    // far; here, the unchanged password's many words, none of them l33t.
    expect(searchesAmongKept(reference)).toBeGreaterThan(20);
    expect(searchesAmongKept(fast)).toBe(0);
  });

  it('should leave a checker that is not indexed to zxcvbn-ts', () => {
    const plain = new ZxcvbnFactory(strengthOptions());
    expect(speedUpL33tMatching(plain)).toBe(true);
    expect(searchesAmongKept(plain)).toBeGreaterThan(20);
  });
});
