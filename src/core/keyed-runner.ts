/** Runs tasks one at a time per key (in the order they were given) and concurrently across keys. */
export function createKeyedRunner() {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, task: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      const next = previous.then(task, task);
      const settled = next.then(
        () => undefined,
        () => undefined,
      );
      tails.set(key, settled);
      void settled.then(() => {
        if (tails.get(key) === settled) tails.delete(key);
      });
      return next;
    },
    /** Resolves when every task given so far has finished. */
    idle: () => Promise.all([...tails.values()]).then(() => undefined),
  };
}

export type KeyedRunner = ReturnType<typeof createKeyedRunner>;
