/**
 * The strength check's way into zxcvbn-ts's internals, which it does not
 * export: its matcher and scoring classes (reached through a checker's own
 * instances) and a few of its modules. Each caller checks what it gets and
 * changes nothing if zxcvbn-ts is not shaped as it expects.
 */

/** The method `name` of the class behind `instance` (its own, not inherited), or undefined. */
export function ownMethod(
  instance: object | undefined,
  name: string,
): { prototype: object; method: unknown } | undefined {
  if (!instance) {
    return undefined;
  }
  const prototype = Object.getPrototypeOf(instance) as object | null;
  const method = prototype
    ? (Object.getOwnPropertyDescriptor(prototype, name)?.value as unknown)
    : undefined;
  return prototype && typeof method === 'function' ? { prototype, method } : undefined;
}

/** Replaces the method `name` of a class, for every instance of it in the process. */
export function replaceMethod(prototype: object, name: string, method: unknown): void {
  Object.defineProperty(prototype, name, { value: method, writable: true, configurable: true });
}

/** A module of zxcvbn-ts's build (`dist/<path>`), or undefined if it has none there. */
export function zxcvbnModule(path: string): unknown {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(`@zxcvbn-ts/core/dist/${path}`) as unknown;
  } catch {
    return undefined;
  }
}
