import type { JwtModuleOptions } from '@nestjs/jwt';
import type { AppConfig } from '../../config/configuration';
import { ACCESS_TOKEN_TYPE } from './access-token.checks';

/**
 * JwtModule's options: the first configured key signs (a KeyObject made once
 * at start, never a PEM re-parsed per token), under its `kid` for the
 * asymmetric algorithms, with the RFC 9068 header and our issuer, audience
 * and lifetime.
 */
export function jwtModuleOptions(config: AppConfig): JwtModuleOptions {
  const { algorithm, keys, issuer, audience, accessTtl } = config.jwt;
  const [signing] = keys;
  return {
    privateKey: signing.signWith,
    signOptions: {
      algorithm,
      issuer,
      audience,
      expiresIn: accessTtl,
      ...(signing.kid !== null ? { keyid: signing.kid } : {}),
      header: { alg: algorithm, typ: ACCESS_TOKEN_TYPE },
    },
  };
}
