import { randomInt } from 'node:crypto';

export const RECOVERY_CODE_COUNT = 10;
/** 32 letters and digits, without the look-alikes 0/o and 1/l: 5 bits a character. */
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const GROUP = 5;

/** Ten new codes of 50 random bits each, written `xxxxx-xxxxx`. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    let code = '';
    for (let i = 0; i < 2 * GROUP; i++) {
      code += ALPHABET[randomInt(ALPHABET.length)];
    }
    return `${code.slice(0, GROUP)}-${code.slice(GROUP)}`;
  });
}

/** A code as typed (any case, with or without the dash or spaces), in its stored form; null if it cannot be one. */
export function normalizeRecoveryCode(typed: string): string | null {
  const code = typed.toLowerCase().replace(/[\s-]/g, '');
  return code.length === 2 * GROUP && [...code].every((c) => ALPHABET.includes(c)) ? code : null;
}
