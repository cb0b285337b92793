import { DataSource } from 'typeorm';
import { expectProblem, newUser, signedInUser } from './support/factories';
import { useSmtpSink } from './support/smtp-sink';
import { createStore, Reply, startApp, TestApp, TestStore, useTestApp } from './support/test-app';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const CONCURRENT = 20;
const isReset = (subject: string) => /reset/i.test(subject);

describe('Send limits (e2e)', () => {
  const smtp = useSmtpSink();
  const t = useTestApp(() => ({ MAIL_URL: smtp.sink.url }));

  const forgot = (email: string, from: string) =>
    t.http.request('POST', '/api/v1/auth/password/forgot', { body: { email }, from });

  /** Reset mails queued in the outbox for these recipients (delivered, skipped or still pending). */
  async function queuedResets(recipients: string[]): Promise<number> {
    const [row] = await t.app
      .get(DataSource)
      .query<Array<{ queued: number }>>(
        `SELECT count(*)::int AS queued FROM outbox WHERE kind = 'password_reset' AND recipient = ANY($1)`,
        [recipients],
      );
    return row.queued;
  }

  /** How many were accepted and limited, and how many mails they queued: one figure to compare. */
  async function outcome(replies: Reply[], recipients: string[]) {
    const count = (status: number) => replies.filter((reply) => reply.status === status).length;
    return { accepted: count(202), limited: count(429), queued: await queuedResets(recipients) };
  }

  /** Waits for the reset mail, then a little longer for any that should not come. */
  async function deliveredResets(email: string): Promise<number> {
    await smtp.sink.waitFor((m) => m.to.includes(email) && isReset(m.subject));
    await sleep(500);
    return smtp.sink.to(email).filter((m) => isReset(m.subject)).length;
  }

  it('should allow one mail-sending request per client address a minute, with Retry-After', async () => {
    const from = '198.51.100.10';
    const first = await forgot('limit.a@example.com', from);
    expect(first.status).toBe(202);
    for (const email of ['limit.b@example.com', 'limit.a@example.com']) {
      const again = await forgot(email, from);
      expectProblem(again, 429, 'rate_limited');
      expect(Number(again.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(again.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    const resend = await t.http.request('POST', '/api/v1/auth/verify-email/resend', {
      body: { email: 'limit.c@example.com' },
      from,
    });
    expectProblem(resend, 429, 'rate_limited');
    // A registration's own code mail does not use up the address's allowance.
    const newcomer = newUser();
    const registerFrom = '198.51.100.20';
    expect(
      (
        await t.http.request('POST', '/api/v1/auth/register', {
          body: newcomer,
          from: registerFrom,
        })
      ).status,
    ).toBe(201);
    expect((await forgot(newcomer.email, registerFrom)).status).toBe(202);

    expect((await forgot('limit.b@example.com', '198.51.100.11')).status).toBe(202);
  });

  it('should send one mail a minute to a recipient, whoever asks, without telling', async () => {
    const user = await signedInUser(t.http);
    const replies = [];
    for (const from of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      const reply = await forgot(user.email, from);
      expect(reply.status).toBe(202);
      replies.push(reply);
    }
    expect(new Set(replies.map((r) => r.text)).size).toBe(1);
    expect(await deliveredResets(user.email)).toBe(1);
  });

  it(`should mail once for ${CONCURRENT} concurrent requests for one address from one client`, async () => {
    const user = await signedInUser(t.http);
    const from = '198.51.100.30';
    const replies = await Promise.all(
      Array.from({ length: CONCURRENT }, () => forgot(user.email, from)),
    );
    expect(await outcome(replies, [user.email])).toEqual({
      accepted: 1,
      limited: CONCURRENT - 1,
      queued: 1,
    });
    expect(await deliveredResets(user.email)).toBe(1);
  });

  it(`should accept one of ${CONCURRENT} concurrent requests for different addresses from one client`, async () => {
    const from = '198.51.100.40';
    const emails = Array.from({ length: CONCURRENT }, () => newUser().email);
    const replies = await Promise.all(emails.map((email) => forgot(email, from)));
    expect(await outcome(replies, emails)).toEqual({
      accepted: 1,
      limited: CONCURRENT - 1,
      queued: 1,
    });
  });

  it(`should mail once for ${CONCURRENT} concurrent requests for one address from different clients`, async () => {
    const user = await signedInUser(t.http);
    const replies = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) => forgot(user.email, `198.51.100.${100 + i}`)),
    );
    expect(await outcome(replies, [user.email])).toEqual({
      accepted: CONCURRENT,
      limited: 0,
      queued: 1,
    });
    expect(new Set(replies.map((r) => r.text)).size).toBe(1);
    expect(await deliveredResets(user.email)).toBe(1);
  });

  it('should count IPv6 clients by their /64, as the request limit does', async () => {
    expect((await forgot('v6.a@example.com', '2001:db8:aa:1::1')).status).toBe(202);
    // Another address in the same /64 (written in full, in capitals) shares the allowance.
    const sameNetwork = await forgot('v6.b@example.com', '2001:DB8:AA:1:FFFF:0:0:2');
    expectProblem(sameNetwork, 429, 'rate_limited');
    expect(Number(sameNetwork.headers['retry-after'])).toBeGreaterThan(0);
    expect((await forgot('v6.c@example.com', '2001:db8:aa:2::1')).status).toBe(202);
    expect(await queuedResets(['v6.a@example.com', 'v6.b@example.com', 'v6.c@example.com'])).toBe(
      2,
    );
  });
});

/** Two instances need a database server: the embedded store is one process's. */
const describeOnServer = process.env.TEST_DATABASE_URL ? describe : describe.skip;

describeOnServer('Send limits across instances on one database (e2e)', () => {
  let store: TestStore;
  const instances: TestApp[] = [];

  beforeAll(async () => {
    store = await createStore();
    // Each has its own connection pool, as separate processes would.
    instances.push(await startApp(store), await startApp(store));
  });
  afterAll(async () => {
    for (const instance of instances) {
      await instance.close();
    }
    await store?.drop();
  });

  it(`should accept one of ${CONCURRENT} concurrent requests spread over two instances`, async () => {
    const email = newUser().email;
    const replies = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) =>
        instances[i % 2].http.request('POST', '/api/v1/auth/password/forgot', {
          body: { email },
          from: '198.51.100.60',
        }),
      ),
    );
    const [row] = await instances[0].app
      .get(DataSource)
      .query<Array<{ queued: number }>>(
        `SELECT count(*)::int AS queued FROM outbox WHERE recipient = $1`,
        [email],
      );
    expect({
      accepted: replies.filter((reply) => reply.status === 202).length,
      limited: replies.filter((reply) => reply.status === 429).length,
      queued: row.queued,
    }).toEqual({ accepted: 1, limited: CONCURRENT - 1, queued: 1 });
  });
});

describe('Send limits with RATE_LIMIT=off (e2e)', () => {
  const t = useTestApp({ RATE_LIMIT: 'off' });

  it('should queue every requested mail', async () => {
    const email = newUser().email;
    const replies = await Promise.all(
      Array.from({ length: 3 }, () =>
        t.http.request('POST', '/api/v1/auth/password/forgot', {
          body: { email },
          from: '198.51.100.50',
        }),
      ),
    );
    expect(replies.map((reply) => reply.status)).toEqual([202, 202, 202]);
    const [row] = await t.app
      .get(DataSource)
      .query<Array<{ queued: number }>>(
        `SELECT count(*)::int AS queued FROM outbox WHERE recipient = $1`,
        [email],
      );
    expect(row.queued).toBe(3);
  });
});
