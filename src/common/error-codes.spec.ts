import { ERROR_CODES, type ErrorCode, statusOf } from './error-codes';
import { codeFor, DEFAULT_CODES, ProblemException } from './problem';

describe('ERROR_CODES', () => {
  it('should give each generic status a code of that status', () => {
    for (const [status, code] of Object.entries(DEFAULT_CODES)) {
      expect({ code, status: statusOf(code) }).toEqual({ code, status: Number(status) });
    }
    expect(statusOf(codeFor(431))).toBe(400);
    expect(codeFor(502)).toBe('internal_error');
  });

  it('should make every ProblemException answer with its code’s status', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const sut = new ProblemException(code, 'detail');
      expect({ code, status: sut.getStatus() }).toEqual({ code, status: ERROR_CODES[code][0] });
      expect(sut.document).toMatchObject({ code, status: ERROR_CODES[code][0] });
    }
  });
});
