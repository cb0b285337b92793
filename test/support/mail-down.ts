import { SmtpSink } from './smtp-sink';
import { createStore, startApp, type TestApp, type TestStore } from './test-app';

/**
 * One app for a describe block whose mail server is down: nothing listens on
 * its SMTP port (retries a second apart) until `mailServerUp()` starts a sink
 * there. Everything is closed, and the store dropped, after the block.
 */
export function useAppWithMailDown(): {
  app: () => TestApp;
  mailServerUp: () => Promise<SmtpSink>;
} {
  let port = 0;
  let store: TestStore | undefined;
  let app: TestApp | undefined;
  let sink: SmtpSink | undefined;
  beforeAll(async () => {
    // Find a free port, then leave nothing listening on it.
    const probe = await SmtpSink.start();
    port = probe.port;
    await probe.close();
    store = await createStore();
    app = await startApp(store, {
      MAIL_URL: `smtp://127.0.0.1:${port}?ignoreTLS=true`,
      RATE_LIMIT: 'off',
      MAIL_RETRY_BASE_SECONDS: '1',
    });
  });
  afterAll(async () => {
    await app?.close();
    await sink?.close();
    await store?.drop();
  });
  return {
    app: () => app!,
    mailServerUp: async () => (sink = await SmtpSink.start(port)),
  };
}
