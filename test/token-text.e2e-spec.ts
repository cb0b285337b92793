import { generateKeyPairSync } from 'node:crypto';
import { expectProblem, signedInUser } from './support/factories';
import { useTestApp, type TestApp } from './support/test-app';

/** The order of the P-256 group: (r, s) and (r, n - s) are both valid ECDSA signatures. */
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Other texts of one base64url part that Node decodes to the same bytes: the
 * last character's unused low bits set otherwise (2 bits of slack when the
 * length is 3 mod 4, 4 bits when it is 2 mod 4).
 */
function otherTexts(part: string): string[] {
  const slack = part.length % 4 === 3 ? 2 : part.length % 4 === 2 ? 4 : 0;
  const last = ALPHABET.indexOf(part[part.length - 1]);
  const texts: string[] = [];
  for (let bits = 1; bits < 1 << slack; bits += 1) {
    const text = part.slice(0, -1) + ALPHABET[last ^ bits];
    expect(Buffer.from(text, 'base64url')).toEqual(Buffer.from(part, 'base64url'));
    texts.push(text);
  }
  return texts;
}

/** Every text of the token but its own that decodes, part by part, to the same bytes. */
function malleated(token: string): string[] {
  const parts = token.split('.');
  return parts.flatMap((part, i) =>
    otherTexts(part).map((text) => parts.map((p, j) => (j === i ? text : p)).join('.')),
  );
}

async function expectOneText(t: TestApp, token: string): Promise<void> {
  expect((await t.http.get('/api/v1/users/me', token)).status).toBe(200);
  const variants = malleated(token);
  for (const variant of variants) {
    expectProblem(await t.http.get('/api/v1/users/me', variant), 401, 'unauthorized');
  }
}

describe('An access token has one accepted text: HS256 (e2e)', () => {
  const t = useTestApp({ RATE_LIMIT: 'off' });

  it('should refuse the other base64url texts of the same signature, header and claims', async () => {
    const { accessToken } = await signedInUser(t.http);
    // 32 bytes of HMAC are 43 characters: three more texts of the signature alone.
    expect(otherTexts(accessToken.split('.')[2])).toHaveLength(3);
    await expectOneText(t, accessToken);
  });
});

describe('An access token has one accepted text: ES256 (e2e)', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const t = useTestApp({
    RATE_LIMIT: 'off',
    JWT_ALGORITHM: 'ES256',
    JWT_PRIVATE_KEYS: key.export({ format: 'pem', type: 'pkcs8' }).toString(),
  });

  it('should sign in low-S form only, and refuse the high-S twin of a signature', async () => {
    for (let i = 0; i < 8; i += 1) {
      const { accessToken } = await signedInUser(t.http);
      const [header, payload, signature] = accessToken.split('.');
      const raw = Buffer.from(signature, 'base64url');
      const s = BigInt(`0x${raw.subarray(32).toString('hex')}`);
      expect(s <= P256_ORDER >> 1n).toBe(true);
      const highS = Buffer.concat([
        raw.subarray(0, 32),
        Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex'),
      ]);
      expectProblem(
        await t.http.get('/api/v1/users/me', `${header}.${payload}.${highS.toString('base64url')}`),
        401,
        'unauthorized',
      );
      await expectOneText(t, accessToken);
    }
  });
});
