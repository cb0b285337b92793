import { ValidationError } from '@nestjs/common';
import {
  assertSafeInput,
  MAX_INPUT_DEPTH,
  overNestedInput,
  unsafeInput,
  validationProblem,
} from './validation';
import { ProblemException } from './problem';

const nestedObjects = (levels: number): unknown => {
  let value: unknown = null;
  for (let i = 0; i < levels; i += 1) {
    value = { a: value };
  }
  return value;
};
const nestedArrays = (levels: number): unknown => {
  let value: unknown = [];
  for (let i = 1; i < levels; i += 1) {
    value = [value];
  }
  return value;
};
const path = (segment: string, levels: number) => Array<string>(levels).fill(segment).join('.');

describe('unsafeInput', () => {
  it(`should take input nested ${MAX_INPUT_DEPTH} levels deep and refuse one level more, naming the place`, () => {
    expect(unsafeInput(nestedObjects(MAX_INPUT_DEPTH))).toBeNull();
    expect(unsafeInput(nestedObjects(MAX_INPUT_DEPTH + 1))).toEqual({
      field: path('a', MAX_INPUT_DEPTH),
      message: expect.stringMatching(/nested too deeply/),
    });
    expect(unsafeInput(nestedArrays(MAX_INPUT_DEPTH))).toBeNull();
    expect(unsafeInput(nestedArrays(MAX_INPUT_DEPTH + 1))?.field).toBe(path('0', MAX_INPUT_DEPTH));
  });

  it('should walk input nested far deeper than the stack allows without overflowing it', () => {
    // JSON.parse itself is iterative: this is what a 100 KiB body can hold.
    const deep = JSON.parse('['.repeat(50_000) + ']'.repeat(50_000)) as unknown;
    expect(unsafeInput(deep)?.field).toBe(path('0', MAX_INPUT_DEPTH));
    expect(overNestedInput(deep)?.field).toBe(path('0', MAX_INPUT_DEPTH));
    expect(unsafeInput({ email: nestedObjects(100_000) })?.field).toBe(
      `email.${path('a', MAX_INPUT_DEPTH - 1)}`,
    );
  });

  it('should report the first problem in document order', () => {
    expect(unsafeInput({ a: { b: 'x\u0000' }, constructor: 1 })).toEqual({
      field: 'a.b',
      message: 'a.b must not contain NUL characters',
    });
    expect(unsafeInput({ a: 'fine', constructor: 1, b: 'x\u0000' })).toEqual({
      field: 'constructor',
      message: 'property constructor should not exist',
    });
    expect(unsafeInput(JSON.parse('{"x":[1,{"__proto__":{}}]}'))).toEqual({
      field: 'x.1.__proto__',
      message: 'property __proto__ should not exist',
    });
    expect(unsafeInput({ roles: ['user'], fullName: 'Ada' })).toBeNull();
  });

  it('should name the body itself "" and a property by the path given', () => {
    expect(unsafeInput('a\u0000')).toEqual({
      field: '',
      message: 'the body must not contain NUL characters',
    });
    expect(unsafeInput('a\u0000', 'email')?.field).toBe('email');
  });

  it('should check only the depth for overNestedInput', () => {
    expect(overNestedInput({ constructor: 'x\u0000' })).toBeNull();
    expect(overNestedInput(undefined)).toBeNull();
  });
});

describe('assertSafeInput', () => {
  const fieldsOf = (value: unknown) => {
    try {
      assertSafeInput(value);
      return null;
    } catch (error) {
      return (error as ProblemException).errors;
    }
  };

  it('should refuse a body that is not a JSON object, on field ""', () => {
    for (const value of ['hello', 42, true, null, [], [{ email: 'a@example.com' }]]) {
      expect(fieldsOf(value)).toEqual([{ field: '', message: 'the body must be a JSON object' }]);
    }
    expect(fieldsOf(undefined)).toBeNull();
    expect(fieldsOf({})).toBeNull();
  });
});

describe('validationProblem', () => {
  const error = (
    property: string | undefined,
    constraints?: Record<string, string>,
    children: ValidationError[] = [],
  ) => ({ property, constraints, children }) as ValidationError;

  it('should give every item a string field: "" for the body itself, dotted paths for nested ones', () => {
    const problem = validationProblem([
      error(undefined, { unknownValue: 'an unknown value was passed to the validate function' }),
      error('email', { isEmail: 'email must be an email' }),
      error('address', undefined, [error('city', { isString: 'city must be a string' })]),
      error('password', { isString: 'password must be a string' }),
    ]);
    expect(problem.errors).toEqual([
      { field: '', message: 'the body must be a JSON object' },
      { field: 'email', message: 'email must be an email' },
      { field: 'address.city', message: 'city must be a string' },
      { field: 'password', message: 'password must be a string' },
    ]);
  });
});
