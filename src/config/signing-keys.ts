import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const JWT_ALGORITHMS = ['HS256', 'ES256', 'RS256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** One key of the access tokens' signature: the first of the list signs, all of them verify. */
export interface SigningKey {
  /** The JOSE `kid`: given with a JWK, else the key's RFC 7638 thumbprint; null for the HS256 secret. */
  kid: string | null;
  /** The private key (or the HS256 secret). */
  signWith: KeyObject;
  /** The public key (or the HS256 secret). */
  verifyWith: KeyObject;
  /** What `/.well-known/jwks.json` publishes; null for the HS256 secret, which is never published. */
  publicJwk: PublicJwk | null;
}

export interface PublicJwk {
  kty: string;
  kid: string;
  alg: JwtAlgorithm;
  use: 'sig';
  [member: string]: string;
}

/** Thrown with a message that names the variable; configuration.ts turns it into its ConfigError. */
export class SigningKeyError extends Error {}

/** What each algorithm takes, and how to tell a key of that kind. */
const KEY_KINDS: Record<
  Exclude<JwtAlgorithm, 'HS256'>,
  { what: string; fits: (key: KeyObject) => boolean }
> = {
  ES256: {
    what: 'an EC key on P-256',
    fits: (key) =>
      key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1',
  },
  RS256: {
    what: 'an RSA key of at least 2048 bits',
    fits: (key) =>
      key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048,
  },
};

/** The HS256 secret as the one signing key (a KeyObject made once). */
export function secretSigningKey(secret: string): SigningKey {
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  return { kid: null, signWith: key, verifyWith: key, publicJwk: null };
}

/**
 * The asymmetric signing keys: from JWT_PRIVATE_KEYS (PEM blocks, a JWK, an
 * array of JWKs or a JWK set, inline or in a file named by the variable), or,
 * outside production, one generated at the first start and kept in DATA_DIR.
 */
export function asymmetricSigningKeys(
  algorithm: Exclude<JwtAlgorithm, 'HS256'>,
  given: string | undefined,
  production: boolean,
  dataDir: string,
): SigningKey[] {
  if (given === undefined) {
    if (production) {
      throw new SigningKeyError(
        `JWT_PRIVATE_KEYS is required when NODE_ENV=production and JWT_ALGORITHM=${algorithm}`,
      );
    }
    return [toSigningKey(generatedKey(algorithm, dataDir), null, algorithm)];
  }
  const keys = parsePrivateKeys(given).map(({ key, kid }) => toSigningKey(key, kid, algorithm));
  const kids = keys.map((key) => key.kid);
  const repeated = kids.find((kid, index) => kids.indexOf(kid) !== index);
  if (repeated) {
    throw new SigningKeyError(`JWT_PRIVATE_KEYS holds two keys with the kid "${repeated}"`);
  }
  return keys;
}

function toSigningKey(
  privateKey: KeyObject,
  kid: string | null,
  algorithm: Exclude<JwtAlgorithm, 'HS256'>,
): SigningKey {
  const kind = KEY_KINDS[algorithm];
  if (privateKey.type !== 'private' || !kind.fits(privateKey)) {
    throw new SigningKeyError(
      `JWT_PRIVATE_KEYS: JWT_ALGORITHM=${algorithm} needs ${kind.what} (private), got ${describe(privateKey)}`,
    );
  }
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const id = kid ?? thumbprint(jwk);
  return {
    kid: id,
    signWith: privateKey,
    verifyWith: publicKey,
    publicJwk: { ...jwk, kty: jwk.kty, kid: id, alg: algorithm, use: 'sig' },
  };
}

function describe(key: KeyObject): string {
  const details = key.asymmetricKeyDetails;
  const size =
    details?.namedCurve ?? (details?.modulusLength ? `${details.modulusLength} bits` : '');
  return `a ${key.type} ${key.asymmetricKeyType ?? 'secret'} key${size ? ` (${size})` : ''}`;
}

/** The JWK thumbprint (RFC 7638): SHA-256 of the required members in lexicographic order. */
export function thumbprint(jwk: Record<string, string>): string {
  const required: Record<string, string[]> = {
    EC: ['crv', 'kty', 'x', 'y'],
    OKP: ['crv', 'kty', 'x'],
    RSA: ['e', 'kty', 'n'],
  };
  const members = required[jwk.kty];
  if (!members) {
    throw new SigningKeyError(`JWT_PRIVATE_KEYS: unsupported key type ${jwk.kty}`);
  }
  const canonical = JSON.stringify(Object.fromEntries(members.map((name) => [name, jwk[name]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

function parsePrivateKeys(raw: string): Array<{ key: KeyObject; kid: string | null }> {
  let text = raw.trim();
  if (!/^(-----BEGIN|\{|\[)/.test(text)) {
    if (!existsSync(text)) {
      throw new SigningKeyError(
        'JWT_PRIVATE_KEYS must hold PEM private keys or JWKs (JSON), or name a file that does',
      );
    }
    text = readFileSync(text, 'utf8').trim();
  }
  // Environment files often carry a PEM on one line with its newlines escaped.
  text = text.replace(/\\n/g, '\n');
  try {
    if (text.startsWith('-----BEGIN')) {
      const blocks = text.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
      if (blocks.length === 0) {
        throw new SigningKeyError('JWT_PRIVATE_KEYS: no PEM block found');
      }
      return blocks.map((block) => ({ key: createPrivateKey(block), kid: null }));
    }
    const parsed = JSON.parse(text) as unknown;
    const list = Array.isArray(parsed)
      ? parsed
      : Array.isArray((parsed as { keys?: unknown }).keys)
        ? (parsed as { keys: unknown[] }).keys
        : [parsed];
    if (list.length === 0) {
      throw new SigningKeyError('JWT_PRIVATE_KEYS holds no key');
    }
    return list.map((jwk) => {
      if (!jwk || typeof jwk !== 'object' || typeof (jwk as { d?: unknown }).d !== 'string') {
        throw new SigningKeyError('JWT_PRIVATE_KEYS: each JWK must be a private key (with "d")');
      }
      const kid = (jwk as { kid?: unknown }).kid;
      return {
        key: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }),
        kid: typeof kid === 'string' && kid !== '' ? kid : null,
      };
    });
  } catch (error) {
    if (error instanceof SigningKeyError) {
      throw error;
    }
    throw new SigningKeyError(
      `JWT_PRIVATE_KEYS cannot be read as PEM or JWK (${(error as Error).message})`,
    );
  }
}

/**
 * Development only: the key made at the first start with this algorithm, kept
 * in DATA_DIR (mode 0600) so tokens survive a restart. Two processes starting
 * together settle on the one file written first.
 */
function generatedKey(algorithm: Exclude<JwtAlgorithm, 'HS256'>, dataDir: string): KeyObject {
  const file = join(dataDir, `jwt-${algorithm.toLowerCase()}.pem`);
  if (!existsSync(file)) {
    const { privateKey } =
      algorithm === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
    mkdirSync(dataDir, { recursive: true });
    // Written aside, then linked into place: a reader never sees half a file.
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    try {
      linkSync(partial, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
    } finally {
      rmSync(partial, { force: true });
    }
  }
  return createPrivateKey(readFileSync(file, 'utf8'));
}
