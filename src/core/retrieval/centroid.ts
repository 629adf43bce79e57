/**
 * The centroid of an entry: the L2-normalized mean of the vectors of its title and questions. A
 * nearest-centroid classifier learned from the entry alone, so it re-trains incrementally: only
 * entries that change get a new one. Null when every vector is zero (nothing to learn from).
 */
export function toCentroid(vectors: number[][]): number[] | null {
  const first = vectors[0];
  if (!first) return null;
  const sum = new Float64Array(first.length);
  for (const vector of vectors) for (let i = 0; i < sum.length; i++) sum[i]! += vector[i] ?? 0;
  let norm = 0;
  for (const x of sum) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm === 0) return null;
  return Array.from(sum, (x) => Math.round((x / norm) * 1e6) / 1e6);
}
