/** Small promise helpers shared by the tests. */

/** A promise with its resolve/reject exposed, for settling it from callbacks. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Reject if `p` has not settled within `ms` (so a missing event fails the test instead of hanging it). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms}ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Read a watcher (KV or object store): its first `first` entries, then (after `between` ran) `more`
 * entries, each shown by `fmt`; the watcher is stopped at the end. Fails instead of hanging when an entry
 * does not come.
 */
export async function watchRead<T>(
  w: AsyncIterable<T>,
  first: number,
  between: () => Promise<void>,
  more: number,
  fmt: (e: T) => string,
): Promise<string[][]> {
  const out: T[] = [];
  const firstSeen = deferred();
  if (first === 0) firstSeen.resolve();
  const done = (async () => {
    for await (const e of w) {
      out.push(e);
      if (out.length === first) firstSeen.resolve();
      if (out.length === first + more) break;
    }
  })();
  await within(firstSeen.promise, 5000, 'the first entries');
  await between();
  await within(done, 5000, 'the later entries');
  return [out.slice(0, first).map(fmt), out.slice(first).map(fmt)];
}
