import { JwtService } from '@nestjs/jwt';
import { loadConfig } from '../../config/configuration';
import { jwtModuleOptions } from './jwt.options';
import { TokensService } from './tokens.service';

describe(TokensService.name, () => {
  const config = loadConfig({ JWT_SECRET: 'y'.repeat(40), JWT_ACCESS_TTL: '60' });
  const codecOf = (c: typeof config) => new JwtService(jwtModuleOptions(c));
  const sut = new TokensService(codecOf(config), config);

  it('should make opaque 256-bit refresh tokens, never the same twice', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => sut.newRefreshToken()));
    expect(tokens.size).toBe(100);
    for (const token of tokens) {
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    }
  });

  it('should derive one successor per token, unpredictable without the server key', () => {
    const token = sut.newRefreshToken();
    expect(sut.successorOf(token)).toBe(sut.successorOf(token));
    expect(sut.successorOf(token)).not.toBe(token);
    expect(Buffer.from(sut.successorOf(token), 'base64url')).toHaveLength(32);
    const other = loadConfig({ JWT_SECRET: 'z'.repeat(40) });
    const otherKey = new TokensService(codecOf(other), other);
    expect(otherKey.successorOf(token)).not.toBe(sut.successorOf(token));
  });

  it('should make 6-digit codes and keep them as an HMAC bound to the user', () => {
    const codes = Array.from({ length: 200 }, () => sut.newVerificationCode());
    codes.forEach((code) => expect(code).toMatch(/^\d{6}$/));
    expect(new Set(codes).size).toBeGreaterThan(190);
    const hash = sut.verificationCodeHash('user-1', '123456');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(sut.verificationCodeHash('user-1', '123456')).toBe(hash);
    expect(sut.verificationCodeHash('user-2', '123456')).not.toBe(hash);
    expect(sut.verificationCodeHash('user-1', '123457')).not.toBe(hash);
    expect(hash).not.toBe(sut.hash('user-1:123456'));
    expect(sut.sameDigest(hash, sut.verificationCodeHash('user-1', '123456'))).toBe(true);
    expect(sut.sameDigest(hash, sut.verificationCodeHash('user-1', '000000'))).toBe(false);
  });

  it('should store tokens as SHA-256 hex', () => {
    expect(sut.hash('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('should sign access tokens with typ at+jwt, the session id and how it was signed in', () => {
    const authTime = new Date('2026-12-02T10:00:00.900Z');
    const token = sut.signAccessToken('user-1', 'session-1', {
      authTime,
      amr: ['pwd', 'otp'],
      aal: 'aal2',
    });
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map(
        (part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>,
      );
    const decoded = { header, payload };
    expect(decoded.header).toEqual({ alg: 'HS256', typ: 'at+jwt' });
    expect(decoded.payload).toMatchObject({
      sub: 'user-1',
      sid: 'session-1',
      iss: 'auth-service',
      aud: 'auth-service',
      auth_time: Math.floor(authTime.getTime() / 1000),
      amr: ['pwd', 'otp'],
      aal: 'aal2',
    });
    expect(Number(decoded.payload.exp) - Number(decoded.payload.iat)).toBe(60);
    expect(decoded.payload.jti).toEqual(expect.any(String));
  });
});
