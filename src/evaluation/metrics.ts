/** Area under the ROC curve: the chance that a random positive scores above a random negative. */
export function toAuroc(positives: number[], negatives: number[]): number | null {
  if (positives.length === 0 || negatives.length === 0) return null;
  const all = [...positives.map((score) => ({ score, positive: true })), ...negatives.map((score) => ({ score, positive: false }))].sort(
    (a, b) => a.score - b.score,
  );
  // Mann-Whitney U with average ranks for ties.
  let rankSumPositive = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]?.score === all[i]?.score) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (all[k]?.positive) rankSumPositive += averageRank;
    i = j + 1;
  }
  const p = positives.length;
  return (rankSumPositive - (p * (p + 1)) / 2) / (p * negatives.length);
}

export interface QueryOutcome {
  /** The right entry, or null for a question no entry covers. */
  label: string | null;
  /** Ranked entry ids, best first. */
  ranked: string[];
  confidence: number;
  answered: boolean;
}

export interface EvaluationFigures {
  queries: number;
  covered: number;
  uncovered: number;
  top1: number;
  recall5: number;
  mrr: number;
  auroc: number | null;
  answeredCorrectly: number;
  escalated: number;
  harmful: number;
  /** Share of uncovered queries that were answered instead of escalated (null when there are none). */
  uncoveredAnswered: number | null;
}

const ratio = (n: number, d: number) => (d === 0 ? 0 : n / d);

/** The figures of one run: ranking quality on covered queries, escalation quality on all. */
export function toFigures(outcomes: QueryOutcome[]): EvaluationFigures {
  const covered = outcomes.filter((o) => o.label !== null);
  const uncovered = outcomes.filter((o) => o.label === null);
  let top1 = 0;
  let recall5 = 0;
  let reciprocal = 0;
  let answeredCorrectly = 0;
  let harmful = 0;
  for (const o of covered) {
    const rank = o.ranked.indexOf(o.label as string);
    if (rank === 0) top1++;
    if (rank >= 0 && rank < 5) recall5++;
    if (rank >= 0) reciprocal += 1 / (rank + 1);
    if (o.answered && rank === 0) answeredCorrectly++;
    if (o.answered && rank !== 0) harmful++;
  }
  for (const o of uncovered) if (o.answered) harmful++;
  return {
    queries: outcomes.length,
    covered: covered.length,
    uncovered: uncovered.length,
    top1: ratio(top1, covered.length),
    recall5: ratio(recall5, covered.length),
    mrr: ratio(reciprocal, covered.length),
    auroc: toAuroc(
      covered.map((o) => o.confidence),
      uncovered.map((o) => o.confidence),
    ),
    answeredCorrectly: ratio(answeredCorrectly, covered.length),
    escalated: ratio(outcomes.filter((o) => !o.answered).length, outcomes.length),
    harmful: ratio(harmful, outcomes.length),
    uncoveredAnswered: uncovered.length === 0 ? null : ratio(uncovered.filter((o) => o.answered).length, uncovered.length),
  };
}
