/**
 * `wrapMethods`: an object whose methods listed in a table run through a wrapper (an
 * audit record around them, arguments replaced), the others unchanged. The table covers
 * every method (`null` for those left alone), so a new method is classified before it
 * compiles.
 */

/** Every method of `T`: the wrapper's entry for it, or `null` to leave it alone. */
export type MethodTable<T, E> = { [K in keyof T]: E | null };

/** A method of the wrapped object, bound to it. */
export type BoundMethod = (...args: unknown[]) => Promise<unknown>;

/** Wraps the methods of `target` that `table` has an entry for; see the module doc. */
export function wrapMethods<T extends object, E>(
  target: T,
  table: MethodTable<T, E>,
  wrap: (entry: E, method: BoundMethod, args: unknown[]) => Promise<unknown>,
): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      const entry =
        typeof property === 'string' && Object.hasOwn(table, property)
          ? table[property as keyof T]
          : null;
      if (entry === null || typeof value !== 'function') return value;
      const method: BoundMethod = (...args) =>
        (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
      return (...args: unknown[]) => wrap(entry, method, args);
    },
  });
}
