import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import {
  asLookupTables,
  strengthOptions,
} from '../../src/auth/passwords/strength/strength-checker';

export type Tables = Record<string, Record<string, number>>;

/** The parts of zxcvbn-ts's factory that the strength checker's specs look into. */
export interface Internals {
  options: {
    rankedDictionaries: Tables;
    getUserInputsOptions(inputs?: string[]): unknown;
  };
  matching: {
    match(password: string, userInputsOptions?: unknown): unknown[];
    matchers: Record<string, { match(options: { password: string }): unknown[] }>;
  };
}

export const internals = (factory: ZxcvbnFactory): Internals => factory as unknown as Internals;

/** zxcvbn-ts's matches of a password, with the user inputs `names` when given. */
export function matchesOf(factory: ZxcvbnFactory, password: string, names?: string[]): unknown[] {
  const { options, matching } = internals(factory);
  return matching.match(password, names && options.getUserInputsOptions(names));
}

/** The checker's dictionaries as prototype-less tables, left unindexed: zxcvbn-ts's own matching. */
export function unindexedChecker(): ZxcvbnFactory {
  const factory = new ZxcvbnFactory(strengthOptions());
  const options = internals(factory).options;
  options.rankedDictionaries = asLookupTables(options.rankedDictionaries);
  return factory;
}

/** A small deterministic generator, so that a failing password can be found again. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    state ^= state + Math.imul(state ^ (state >>> 7), 61);
    return ((state ^ (state >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Passwords made of dictionary words (some l33t-spelt, reversed or capitalised), digits and symbols. */
export function generatedPasswords(tables: Tables, count: number, seed = 20261203): string[] {
  const random = generator(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const lists = Object.values(tables).map((table) => Object.keys(table).slice(0, 3000));
  const l33t: Record<string, string> = { a: '4', e: '3', i: '1', o: '0', s: '$', t: '7', l: '|' };
  const pieces: (() => string)[] = [
    () => pick(pick(lists)),
    () => pick(pick(lists)).replace(/[aeiostl]/g, (c) => (random() < 0.6 ? l33t[c] : c)),
    () => [...pick(pick(lists))].reverse().join(''),
    () => pick(pick(lists)).replace(/^./, (c) => c.toUpperCase()),
    () => String(Math.floor(random() * 10000)),
    () => pick([' ', '-', '_', '.', '!', '@', '#', '&', '|_', '(', '$']),
    () =>
      pick([
        'qwerty',
        'asdf',
        'zxcvbn',
        'abcdef',
        '13579',
        'aaaa',
        'İstanbul',
        'straße',
        'constructor',
      ]),
  ];
  return Array.from({ length: count }, () => {
    const parts = Array.from({ length: 1 + Math.floor(random() * 5) }, () => pick(pieces)());
    return parts.join('').slice(0, 40);
  });
}
