/**
 * The one accepted text of a compact JWS. Two things let a token be written
 * in more than one way while its signature still verifies, and logs, caches
 * and deny-lists key on that text:
 *
 * - base64url's last character carries unused bits, and Node's decoder
 *   ignores them: a part is accepted only in its canonical encoding;
 * - an ECDSA signature (r, s) is also valid as (r, n - s): only the low-S
 *   form is accepted, and signatures are made in it.
 */

/** The order of the P-256 group (SEC 2, secp256r1). */
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const P256_HALF_ORDER = P256_ORDER >> 1n;

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BASE64URL_TEXT = /^[A-Za-z0-9_-]+$/;

/**
 * Whether a part is base64url written exactly as its bytes encode (no
 * padding, no stray bits): a length of 2 or 3 modulo 4 leaves 4 or 2 unused low bits in
 * the last character, which must be zero; 1 modulo 4 is never base64url.
 */
export function isCanonicalBase64url(part: string): boolean {
  const unusedBits = [0, -1, 4, 2][part.length % 4];
  const last = BASE64URL.indexOf(part[part.length - 1]);
  return unusedBits >= 0 && BASE64URL_TEXT.test(part) && (last & ((1 << unusedBits) - 1)) === 0;
}

/** Whether an ES256 signature (r || s, 64 bytes) is in its low-S form. */
export function isLowS(signature: Buffer): boolean {
  return (
    signature.length === 64 &&
    BigInt(`0x${signature.subarray(32).toString('hex')}`) <= P256_HALF_ORDER
  );
}

/** The low-S form of an ES256 signature (r || s): s replaced by n - s when it is in the upper half. */
export function toLowS(signature: Buffer): Buffer {
  if (signature.length !== 64 || isLowS(signature)) {
    return signature;
  }
  const s = BigInt(`0x${signature.subarray(32).toString('hex')}`);
  const low = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return Buffer.concat([signature.subarray(0, 32), low]);
}
