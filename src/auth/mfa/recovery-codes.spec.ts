import { newRecoveryCodes, normalizeRecoveryCode, RECOVERY_CODE_COUNT } from './recovery-codes';

describe('recovery codes', () => {
  it('should make ten distinct codes of two groups of five unambiguous characters', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(codes).size).toBe(RECOVERY_CODE_COUNT);
    for (const code of codes) {
      expect(code).toMatch(/^[a-km-np-z2-9]{5}-[a-km-np-z2-9]{5}$/);
    }
  });

  it('should read a code however it is typed', () => {
    expect(normalizeRecoveryCode('K7M2P-XQ9RT')).toBe('k7m2pxq9rt');
    expect(normalizeRecoveryCode(' k7m2p xq9rt ')).toBe('k7m2pxq9rt');
    expect(normalizeRecoveryCode('k7m2pxq9rt')).toBe('k7m2pxq9rt');
  });

  it('should refuse what cannot be a code', () => {
    for (const typed of [
      '',
      '123456',
      'k7m2p-xq9r',
      'k7m2p-xq9rtt',
      'k7m2p-xq9r0',
      'l7m2p-xq9rt',
    ]) {
      expect(normalizeRecoveryCode(typed)).toBeNull();
    }
  });
});
