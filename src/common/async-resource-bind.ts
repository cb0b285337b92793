import { AsyncResource } from 'node:async_hooks';

const installed = Symbol.for('auth-service.cheapAsyncResourceBind');

/**
 * `AsyncResource#bind` without the deprecated `asyncResource` property.
 *
 * Fastify binds a callback to an `AsyncResource` for every request with a
 * body (its content-type parser), and Nest for every route with an
 * interceptor (refresh, sign-in, sign-out). On Node 20, `bind` gives each
 * bound function an `asyncResource` getter and setter wrapped by
 * `util.deprecate` (DEP0172), and `deprecate` re-parents each wrapper's
 * prototype: 11-14 µs a call on this
 * machine against 0.2 µs for the binding itself, and ~0.15-0.25 ms of the
 * service's CPU per refresh in `npm run bench` (docs/performance.md).
 *
 * This `bind` does what Node's does otherwise: the bound function runs `fn` in
 * the resource's async scope, with the caller's `this` (or `thisArg` when
 * given) and its arguments, and returns what `fn` returns. Only the deprecated
 * property is gone. Installed once per process, by `createFastifyAdapter`.
 */
export function installCheapAsyncResourceBind(): void {
  const prototype = AsyncResource.prototype as AsyncResource & { [installed]?: true };
  if (prototype[installed]) {
    return;
  }
  Object.defineProperty(prototype, installed, { value: true });
  Object.defineProperty(prototype, 'bind', {
    configurable: true,
    writable: true,
    value: function bind(this: AsyncResource, fn: AnyFunction, thisArg?: unknown): AnyFunction {
      if (typeof fn !== 'function') {
        throw Object.assign(new TypeError('The "fn" argument must be of type function'), {
          code: 'ERR_INVALID_ARG_TYPE',
        });
      }
      if (thisArg !== undefined) {
        return (...args: unknown[]) => this.runInAsyncScope(fn, thisArg, ...args);
      }
      return boundWithCallersThis(this, fn);
    },
  });
}

type AnyFunction = (...args: unknown[]) => unknown;

function boundWithCallersThis(resource: AsyncResource, fn: AnyFunction): AnyFunction {
  return function (this: unknown, ...args: unknown[]) {
    return resource.runInAsyncScope(fn, this, ...args);
  };
}
