type Otplib = typeof import('otplib');
type QrCode = typeof import('qrcode');
let otplib: Otplib | undefined;
let qrcode: QrCode | undefined;

/*
 * otplib and qrcode are loaded at their first use, by an account's second
 * factor, not at start: loading them took 35-50 ms of every start.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const otp = (): Otplib => (otplib ??= require('otplib') as Otplib);
const qr = (): QrCode => (qrcode ??= require('qrcode') as QrCode);
/* eslint-enable @typescript-eslint/no-require-imports */

/** RFC 6238 as every authenticator app reads an `otpauth://` URI without parameters: SHA-1, 6 digits, 30 s. */
export const TOTP_PERIOD_SECONDS = 30;
const SIX_DIGITS = /^\d{6}$/;

/** Whether a submitted code has the shape of a TOTP code (anything else may be a recovery code). */
export function looksLikeTotp(code: string): boolean {
  return SIX_DIGITS.test(code);
}

/** A new base32 seed of 160 bits (otplib, from the CSPRNG). */
export function newTotpSecret(): string {
  return otp().generateSecret();
}

/** The `otpauth://totp/<issuer>:<account>?secret=…&issuer=…` URI authenticator apps read. */
export function totpUri(issuer: string, account: string, secret: string): string {
  return otp().generateURI({ issuer, label: account, secret, algorithm: 'sha1', digits: 6 });
}

/** A QR code of `text` as a `data:image/svg+xml` URL (the page's CSP allows `img-src data:`). */
export async function qrCodeDataUrl(text: string): Promise<string> {
  const svg = await qr().toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

/**
 * The time step a 6-digit code belongs to, when it is the code of `secret`
 * for the current step or one step either side and later than `afterStep`
 * (the last step used: a code is good once); otherwise null.
 */
export async function matchingStep(
  secret: string,
  code: string,
  afterStep: number | null,
  nowMs = Date.now(),
): Promise<number | null> {
  if (!looksLikeTotp(code)) {
    return null;
  }
  // A step used at or past the window's end (a clock set back, or another
  // instance's clock ahead) leaves no later step here: refused, as otplib
  // would otherwise throw on an afterTimeStep beyond the window.
  const epoch = Math.floor(nowMs / 1000);
  const lastInWindow = Math.floor((epoch + TOTP_PERIOD_SECONDS) / TOTP_PERIOD_SECONDS);
  if (afterStep !== null && afterStep >= lastInWindow) {
    return null;
  }
  const result = await otp().verify({
    secret,
    token: code,
    epoch,
    epochTolerance: TOTP_PERIOD_SECONDS,
    ...(afterStep === null ? {} : { afterTimeStep: afterStep }),
  });
  // A TOTP result (not HOTP's, whose type the functional API shares) names its step.
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}
