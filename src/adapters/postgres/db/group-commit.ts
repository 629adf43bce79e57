/**
 * Gathers single-row writes that arrive while earlier ones are in flight into one statement (group
 * commit): under load, many callers share a round trip; alone, a call goes out at once. Each caller
 * is answered only after the statement holding its row completed. When a shared statement fails,
 * its rows are retried one by one, so that one bad row fails only its own caller.
 */
export function createGroupCommit<T, R>(write: (items: T[]) => Promise<R[]>, options: { maxInFlight?: number; maxBatch?: number } = {}) {
  const maxInFlight = options.maxInFlight ?? 2;
  const maxBatch = options.maxBatch ?? 500;
  const queue: Array<{ item: T; resolve(result: R): void; reject(error: unknown): void }> = [];
  let inFlight = 0;

  async function flush(batch: typeof queue): Promise<void> {
    try {
      const results = await write(batch.map((b) => b.item));
      for (const [i, b] of batch.entries()) b.resolve(results[i] as R);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      for (const b of batch) {
        try {
          const [result] = await write([b.item]);
          b.resolve(result as R);
        } catch (single) {
          b.reject(single);
        }
      }
    }
  }

  function pump(): void {
    while (inFlight < maxInFlight && queue.length > 0) {
      inFlight += 1;
      void flush(queue.splice(0, maxBatch)).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
  }

  return (item: T): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      pump();
    });
}
