import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import {
  generatedPasswords,
  internals,
  matchesOf,
  type Tables,
  unindexedChecker,
} from '../../../../test/support/strength-passwords';
import { asLookupTables, createStrengthChecker, strengthOptions } from './strength-checker';
import { indexDictionaries } from './word-index';

describe('indexDictionaries', () => {
  const indexed = createStrengthChecker('now');
  const reference = unindexedChecker();
  const names = ['reg.1@example.com', 'reg.1', 'Violet'];

  it.each([
    '',
    'a',
    'password1',
    'P@ssw0rd!',
    'Tr0ub4dour&3correcthorse',
    'violet tractor harbour 42',
    'oneTwoThree',
    'firstsecondthird',
    'drowssap',
    'constructor',
    'xconstructor2024',
    '__proto__hello',
    'İstanbulİstanbul',
    'reg.1@example.com2',
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  ])('should find the same matches as zxcvbn-ts in %p', (password) => {
    expect(matchesOf(indexed, password, names)).toEqual(matchesOf(reference, password, names));
    expect(matchesOf(indexed, password)).toEqual(matchesOf(reference, password));
    // No names: an empty user-inputs dictionary, whose longest word is 0 characters.
    expect(matchesOf(indexed, password, [])).toEqual(matchesOf(reference, password, []));
    const ours = indexed.check(password, names);
    const theirs = reference.check(password, names);
    expect({ ...ours, calcTime: 0 }).toEqual({ ...theirs, calcTime: 0 });
  });

  it('should find the same matches as zxcvbn-ts in 200 generated passwords', () => {
    const passwords = generatedPasswords(internals(reference).options.rankedDictionaries, 200);
    let matched = 0;
    for (const password of passwords) {
      const ours = matchesOf(indexed, password, names);
      expect({ password, matches: ours }).toEqual({
        password,
        matches: matchesOf(reference, password, names),
      });
      matched += ours.length;
    }
    // The generator makes passwords with plenty of dictionary words, l33t and reversed ones.
    expect(matched).toBeGreaterThan(passwords.length * 5);
  });

  it('should look words up in the index built when it was called', () => {
    const checker = createStrengthChecker('now');
    const tables = internals(checker).options.rankedDictionaries;
    const before = matchesOf(checker, 'qzvxjwk');
    tables['passwords-common'].qzvxjwk = 7;
    try {
      // A word added to a table afterwards is not in the index...
      expect(matchesOf(checker, 'qzvxjwk')).toEqual(before);
      // ...while zxcvbn-ts's own code, on the same tables, finds it.
      expect(matchesOf(unindexedWith(tables), 'qzvxjwk')).toContainEqual(
        expect.objectContaining({
          matchedWord: 'qzvxjwk',
          rank: 7,
          dictionaryName: 'passwords-common',
        }),
      );
      // New tables are not the indexed ones: zxcvbn-ts's own code runs on them.
      internals(checker).options.rankedDictionaries = asLookupTables(tables);
      expect(matchesOf(checker, 'qzvxjwk')).toContainEqual(
        expect.objectContaining({ matchedWord: 'qzvxjwk', rank: 7 }),
      );
    } finally {
      delete tables['passwords-common'].qzvxjwk;
    }
  });

  it("should build the index in a later turn of the event loop with 'soon'", async () => {
    const checker = createStrengthChecker('soon');
    const tables = internals(checker).options.rankedDictionaries;
    tables['passwords-common'].qzvxjwl = 3;
    // Not indexed yet: zxcvbn-ts's own code finds the word added to its tables.
    expect(matchesOf(checker, 'qzvxjwl')).toContainEqual(expect.objectContaining({ rank: 3 }));
    delete tables['passwords-common'].qzvxjwl;
    await new Promise((resolve) => setImmediate(resolve));
    const without = matchesOf(checker, 'qzvxjwl');
    tables['passwords-common'].qzvxjwl = 3;
    try {
      // Indexed now, before the word came back: the index does not have it.
      expect(matchesOf(checker, 'qzvxjwl')).toEqual(without);
    } finally {
      delete tables['passwords-common'].qzvxjwl;
    }
    expect(checker.check('violet tractor harbour 42', names)).toEqual(
      expect.objectContaining({ score: reference.check('violet tractor harbour 42', names).score }),
    );
  });

  it('should leave a checker with ordinary tables to zxcvbn-ts', () => {
    const plain = new ZxcvbnFactory(strengthOptions());
    const untouched = new ZxcvbnFactory(strengthOptions());
    expect(indexDictionaries(plain)).toBe(false);
    // Ordinary objects find `constructor` on Object.prototype: zxcvbn-ts's own behaviour, kept.
    expect(matchesOf(plain, 'constructor')).toEqual(matchesOf(untouched, 'constructor'));
    expect(indexDictionaries(indexed)).toBe(true);
  });
});

function unindexedWith(tables: Tables): ZxcvbnFactory {
  const factory = new ZxcvbnFactory(strengthOptions());
  internals(factory).options.rankedDictionaries = tables;
  return factory;
}
