import { generate } from 'otplib';
import { matchingStep, newTotpSecret, qrCodeDataUrl, totpUri } from './totp';

const NOW = Date.UTC(2026, 11, 2, 12, 0, 10);
const step = (ms: number) => Math.floor(ms / 1000 / 30);
const codeAt = (secret: string, ms: number) => generate({ secret, epoch: Math.floor(ms / 1000) });

describe('TOTP', () => {
  const secret = newTotpSecret();

  it('should make base32 secrets of 160 bits', () => {
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(newTotpSecret()).not.toBe(secret);
  });

  it('should accept a code of the current step and of one step either side, naming its step', async () => {
    for (const offset of [-30_000, 0, 30_000]) {
      expect(await matchingStep(secret, await codeAt(secret, NOW + offset), null, NOW)).toBe(
        step(NOW + offset),
      );
    }
  });

  it('should refuse a code two steps away', async () => {
    expect(await matchingStep(secret, await codeAt(secret, NOW - 60_000), null, NOW)).toBeNull();
    expect(await matchingStep(secret, await codeAt(secret, NOW + 60_000), null, NOW)).toBeNull();
  });

  it('should refuse a code of the last used step or an older one', async () => {
    const code = await codeAt(secret, NOW);
    expect(await matchingStep(secret, code, step(NOW), NOW)).toBeNull();
    expect(await matchingStep(secret, code, step(NOW) + 1, NOW)).toBeNull();
    expect(await matchingStep(secret, code, step(NOW) - 1, NOW)).toBe(step(NOW));
  });

  it('should refuse, not throw, when the last used step is past the window (a clock set back)', async () => {
    const code = await codeAt(secret, NOW);
    expect(await matchingStep(secret, code, step(NOW) + 1, NOW)).toBeNull();
    expect(await matchingStep(secret, code, step(NOW) + 3, NOW)).toBeNull();
  });

  it('should refuse what is not a 6-digit code without throwing', async () => {
    for (const code of ['', '12345', '1234567', 'abcdef', '12 345', 'k7m2p-xq9rt']) {
      expect(await matchingStep(secret, code, null, NOW)).toBeNull();
    }
  });

  it('should refuse the code of another secret', async () => {
    expect(await matchingStep(newTotpSecret(), await codeAt(secret, NOW), null, NOW)).toBeNull();
  });

  it('should write the otpauth URI authenticator apps read, and its QR code as an SVG data URL', async () => {
    const uri = totpUri('auth-service', 'ada@example.com', secret);
    expect(uri).toMatch(/^otpauth:\/\/totp\/auth-service:ada%40example\.com\?/);
    const params = new URL(uri).searchParams;
    expect(params.get('secret')).toBe(secret);
    expect(params.get('issuer')).toBe('auth-service');
    const qr = await qrCodeDataUrl(uri);
    expect(qr).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(Buffer.from(qr.split(',')[1], 'base64').toString()).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  });
});
