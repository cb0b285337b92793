import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { installCheapAsyncResourceBind } from './async-resource-bind';

describe('installCheapAsyncResourceBind', () => {
  const storage = new AsyncLocalStorage<string>();
  const currentBind = () => Object.getOwnPropertyDescriptor(AsyncResource.prototype, 'bind')?.value;

  beforeAll(() => installCheapAsyncResourceBind());

  it("should replace Node 20's bind (no deprecated asyncResource wrappers), once", () => {
    // Node's bind gives every bound function a deprecated `asyncResource` accessor.
    const bound = new AsyncResource('test').bind(() => undefined);
    expect(Object.getOwnPropertyDescriptor(bound, 'asyncResource')).toBeUndefined();
    const ours = currentBind();
    installCheapAsyncResourceBind();
    expect(currentBind()).toBe(ours);
  });

  it("should run the function in the resource's async context, with the caller's this and arguments", () => {
    const resource = storage.run('at bind', () => new AsyncResource('test'));
    const seen: unknown[] = [];
    const bound = resource.bind(function (this: unknown, a: number, b: number) {
      seen.push(storage.getStore(), this, a, b);
      return a + b;
    });
    const caller = { name: 'caller' };
    const result = storage.run('at call', () => bound.call(caller, 2, 3));
    expect(result).toBe(5);
    expect(seen).toEqual(['at bind', caller, 2, 3]);
  });

  it('should use thisArg when given, and pass errors through', () => {
    const self = { name: 'self' };
    const resource = storage.run('bound', () => new AsyncResource('test'));
    // Node's bind takes a thisArg; @types/node leaves it out.
    const bindWith = currentBind() as (fn: unknown, thisArg: unknown) => () => unknown;
    const bound = bindWith.call(
      resource,
      function (this: unknown) {
        return [this, storage.getStore()];
      },
      self,
    );
    expect(bound.call({ other: true })).toEqual([self, 'bound']);
    const failing = resource.bind(() => {
      throw new Error('from fn');
    });
    expect(() => failing()).toThrow('from fn');
  });

  it('should serve the static AsyncResource.bind and refuse what is not a function', () => {
    const bound = storage.run('static', () => AsyncResource.bind(() => storage.getStore()));
    expect(bound()).toBe('static');
    expect(() => new AsyncResource('test').bind('nope' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });
});
