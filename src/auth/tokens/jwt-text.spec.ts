import { randomBytes } from 'node:crypto';
import { isCanonicalBase64url } from './jwt-text';

describe('isCanonicalBase64url', () => {
  it('should accept exactly the texts that decode and encode back to themselves', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let length = 1; length <= 12; length += 1) {
      for (let i = 0; i < 300; i += 1) {
        const text = Array.from(randomBytes(length), (byte) => alphabet[byte % 64]).join('');
        const canonical = Buffer.from(text, 'base64url').toString('base64url') === text;
        expect({ text, accepted: isCanonicalBase64url(text) }).toEqual({
          text,
          accepted: canonical,
        });
      }
    }
  });

  it('should refuse padding and characters outside base64url', () => {
    for (const text of ['QQ==', 'QQ=', 'Q+E', 'Q/E', 'QU E', '']) {
      expect({ text, accepted: isCanonicalBase64url(text) }).toEqual({ text, accepted: false });
    }
  });
});
