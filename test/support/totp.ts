import { generate } from 'otplib';
import type { SignedIn } from './factories';
import type { HttpClient } from './test-app';

/** RFC 6238 as the service uses it: 30 s steps, 6 digits, SHA-1 (otplib's defaults). */
export const PERIOD_SECONDS = 30;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The 30 s step the clock is in (the service runs in this process: same clock). */
export function currentStep(): number {
  return Math.floor(Date.now() / 1000 / PERIOD_SECONDS);
}

/** The code an authenticator app with this secret shows at `epoch` (Unix seconds). */
export function codeAt(secret: string, epoch: number): Promise<string> {
  return generate({ secret, epoch });
}

/** The code `offsetSeconds` from now: -30 the previous step's, 30 the next one's, -60 two steps old. */
export function codeFromNow(secret: string, offsetSeconds = 0): Promise<string> {
  return codeAt(secret, Math.floor(Date.now() / 1000) + offsetSeconds);
}

/**
 * When the current step ends within `marginMs`, waits for the next one to
 * begin: a code of the previous step, made now, is then still one step old
 * (not two) when the service checks it a moment later.
 */
export async function awayFromStepEnd(marginMs = 4000): Promise<void> {
  const left = PERIOD_SECONDS * 1000 - (Date.now() % (PERIOD_SECONDS * 1000));
  if (left < marginMs) {
    await sleep(left + 50);
  }
}

/** A 6-digit code that is none of the codes of this secret from two steps back to two ahead. */
export async function wrongCode(secret: string): Promise<string> {
  const near = await Promise.all(
    [-60, -30, 0, 30, 60].map((offset) => codeFromNow(secret, offset)),
  );
  for (let n = 0; ; n += 1) {
    const candidate = String(n).padStart(6, '0');
    if (!near.includes(candidate)) {
      return candidate;
    }
  }
}

/**
 * An authenticator app as its owner uses it: every code it gives is of a
 * later step than the one before (the service refuses a code of a step
 * already used, or older), as near now as the window allows: the previous
 * step first, then the current one, then the next. A fourth code within one
 * step waits for the clock.
 */
export class Authenticator {
  private lastStep = Number.NEGATIVE_INFINITY;

  constructor(readonly secret: string) {}

  /** Marks the steps up to `step` as used (by a code the test made itself). */
  used(step: number): void {
    this.lastStep = Math.max(this.lastStep, step);
  }

  async next(): Promise<string> {
    let current = currentStep();
    if (this.lastStep + 1 <= current - 1) {
      await awayFromStepEnd();
      current = currentStep();
    }
    const step = Math.max(this.lastStep + 1, current - 1);
    if (step > current + 1) {
      // Wait until `step` is the next step (a code of it is then accepted).
      await sleep((step - 1) * PERIOD_SECONDS * 1000 - Date.now() + 50);
    }
    this.lastStep = step;
    return codeAt(this.secret, step * PERIOD_SECONDS);
  }
}

export interface Enrolled {
  secret: string;
  authenticator: Authenticator;
  recoveryCodes: string[];
}

/**
 * Sets up and confirms an authenticator app for a signed-in account (with
 * its password, or none for a secret-key account): what its owner keeps.
 */
export async function enrolTotp(
  http: HttpClient,
  user: Pick<SignedIn, 'accessToken'> & { password?: string },
): Promise<Enrolled> {
  const started = await http.post(
    '/api/v1/users/me/mfa/totp',
    user.password === undefined ? {} : { password: user.password },
    user.accessToken,
  );
  expect(started.status).toBe(201);
  const authenticator = new Authenticator(started.body.secret);
  const confirmed = await http.post(
    '/api/v1/users/me/mfa/totp/confirm',
    { code: await authenticator.next() },
    user.accessToken,
  );
  expect(confirmed.status).toBe(200);
  return {
    secret: started.body.secret,
    authenticator,
    recoveryCodes: confirmed.body.recoveryCodes,
  };
}
