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

/** Whether a part is written exactly as its bytes encode (no stray bits, no padding). */
export function isCanonicalBase64url(part: string): boolean {
  return Buffer.from(part, 'base64url').toString('base64url') === part;
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
