import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import {
  asLookupTables,
  createStrengthChecker,
  sharedStrengthChecker,
  strengthOptions,
} from './strength-checker';
import { isIndexed } from './word-index';

type Tables = Record<string, Record<string, number>>;
const tablesOf = (factory: ZxcvbnFactory): Tables =>
  (factory as unknown as { options: { rankedDictionaries: Tables } }).options.rankedDictionaries;

describe('createStrengthChecker', () => {
  const checker = createStrengthChecker();
  // zxcvbn-ts as it comes, with the same dictionaries and limits.
  const plain = new ZxcvbnFactory(strengthOptions());

  it('should rebuild every dictionary as a prototype-less table with the same ranks', () => {
    const rebuilt = tablesOf(checker);
    const original = tablesOf(plain);
    expect(Object.keys(rebuilt)).toEqual(Object.keys(original));
    expect(Object.keys(rebuilt).length).toBeGreaterThan(10);
    for (const [name, ranks] of Object.entries(original)) {
      expect(Object.getPrototypeOf(rebuilt[name])).toBeNull();
      expect({ ...rebuilt[name] }).toEqual({ ...ranks });
    }
    expect(rebuilt['passwords-common'].password).toBe(original['passwords-common'].password);
  });

  it.each([
    'password1',
    'P@ssw0rd!',
    'Tr0ub4dour&3',
    'violet tractor harbour 42',
    'correct-horse-battery',
    'january1987',
    'drowssap',
    'constructor',
    'xconstructor2024',
    '__proto__hello',
    'jupiter neptune saturn',
    'qwertyuiop',
    'reg.1@example.com2',
  ])('should score %p exactly as zxcvbn-ts as it comes', (password) => {
    const names = ['reg.1@example.com', 'reg.1'];
    const ours = checker.check(password, names);
    const theirs = plain.check(password, names);
    expect(ours.score).toBe(theirs.score);
    expect(ours.guesses).toBe(theirs.guesses);
    expect(ours.feedback).toEqual(theirs.feedback);
    expect(ours.sequence.map((m) => [m.pattern, m.token, m.i, m.j])).toEqual(
      theirs.sequence.map((m) => [m.pattern, m.token, m.i, m.j]),
    );
  });

  it('should keep a word that is a single space', () => {
    const tables = asLookupTables({ spaces: { ' ': 1, a: 2 }, letters: { b: 1 } });
    expect(tables.spaces[' ']).toBe(1);
    expect(tables.letters[' ']).toBeUndefined();
    expect(Object.keys(tables.letters)).toEqual(['b']);
  });
});

describe('sharedStrengthChecker', () => {
  it('should build one checker for the process, indexed soon after, and give it to every caller', async () => {
    const first = sharedStrengthChecker();
    expect(sharedStrengthChecker()).toBe(first);
    // A check before the index is built, and after: the same answer.
    const early = first.check('violet tractor harbour 42', ['reg.1@example.com']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(isIndexed((first as unknown as { options: object }).options)).toBe(true);
    const late = first.check('violet tractor harbour 42', ['reg.1@example.com']);
    expect({ ...late, calcTime: 0 }).toEqual({ ...early, calcTime: 0 });
  });
});
