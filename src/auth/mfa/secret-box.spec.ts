import { SecretBox } from './secret-box';

describe('SecretBox', () => {
  const box = new SecretBox('s'.repeat(48), 'totp');

  it('should open what it sealed for the same owner', () => {
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.open(sealed, 'user-1')).toBe('JBSWY3DPEHPK3PXP');
  });

  it('should seal the same text differently each time', () => {
    expect(box.seal('same', 'user-1')).not.toBe(box.seal('same', 'user-1'));
  });

  it('should not open a value sealed for another owner, under another key or purpose', () => {
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
    expect(box.open(sealed, 'user-2')).toBeNull();
    expect(new SecretBox('t'.repeat(48), 'totp').open(sealed, 'user-1')).toBeNull();
    expect(new SecretBox('s'.repeat(48), 'other').open(sealed, 'user-1')).toBeNull();
  });

  it('should not open a tampered, truncated or foreign text', () => {
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
    const bytes = Buffer.from(sealed.slice(3), 'base64url');
    bytes[bytes.length - 1] ^= 1;
    expect(box.open(`v1.${bytes.toString('base64url')}`, 'user-1')).toBeNull();
    expect(box.open(sealed.slice(0, 20), 'user-1')).toBeNull();
    expect(box.open('JBSWY3DPEHPK3PXP', 'user-1')).toBeNull();
    expect(box.open(`v2.${sealed.slice(3)}`, 'user-1')).toBeNull();
  });
});
