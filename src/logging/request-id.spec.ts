import type { IncomingMessage } from 'node:http';
import { scrubUrl } from './logging.module';
import { requestIdGenerator } from './request-id';

const request = (id?: string) =>
  ({ headers: id === undefined ? {} : { 'x-request-id': id } }) as unknown as IncomingMessage;

describe('requestIdGenerator', () => {
  it("should keep a trusted proxy's sane X-Request-Id and put the id on the raw request", () => {
    const req = request('edge-4f2a.17:3');
    expect(requestIdGenerator(true)(req)).toBe('edge-4f2a.17:3');
    expect((req as unknown as { id: string }).id).toBe('edge-4f2a.17:3');
  });

  it('should make a new UUID without a trusted proxy, or for an id that could forge log lines', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect(requestIdGenerator(false)(request('edge-1'))).toMatch(uuid);
    expect(requestIdGenerator(true)(request('a\nb'))).toMatch(uuid);
    expect(requestIdGenerator(true)(request('x'.repeat(129)))).toMatch(uuid);
    expect(requestIdGenerator(true)(request())).toMatch(uuid);
  });
});

describe('scrubUrl', () => {
  it('should redact secret query values and keep the rest', () => {
    expect(scrubUrl('/reset?token=abc&lang=en')).toBe('/reset?token=[redacted]&lang=en');
    expect(scrubUrl('/x?lang=en&code=123456#top')).toBe('/x?lang=en&code=[redacted]#top');
    expect(scrubUrl('/api/v1/users/me')).toBe('/api/v1/users/me');
  });
});
