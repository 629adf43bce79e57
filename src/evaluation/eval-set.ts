import { readFile } from 'node:fs/promises';
import { z } from 'zod';

export interface EvalEntry {
  id: string;
  questions: string[];
  answer: string;
}
export interface EvalQuery {
  text: string;
  label: string | null;
}

const entrySchema = z.object({
  id: z.string().min(1),
  questions: z.array(z.string()).min(1, 'an entry needs at least one question'),
  answer: z.string().default(''),
});
// Empty queries happen in real data (BANKING77-OOS has one): the bot must escalate them.
const querySchema = z.object({ text: z.string(), label: z.string().min(1).nullable() });

async function readJsonl<T>(path: string, schema: z.ZodType<T>): Promise<T[]> {
  const lines = (await readFile(path, 'utf8')).split('\n');
  const items: T[] = [];
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`${path}:${i + 1}: not valid JSON`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new Error(`${path}:${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')} ${x.message}`).join('; ')}`);
    items.push(parsed.data);
  }
  return items;
}

/** Reads a kb.jsonl and a queries file in the format of shared/eval/README.md. */
export async function readEvalSet(kbPath: string, queriesPath: string): Promise<{ entries: EvalEntry[]; queries: EvalQuery[] }> {
  const entries = await readJsonl(kbPath, entrySchema);
  const queries = await readJsonl(queriesPath, querySchema);
  const ids = new Set(entries.map((e) => e.id));
  const unknown = queries.find((q) => q.label !== null && !ids.has(q.label));
  if (unknown) throw new Error(`${queriesPath}: label "${unknown.label}" is not an entry of ${kbPath}`);
  return { entries, queries };
}

/** Reads a queries file whose labels must be among `labels` (e.g. the topics of a knowledge folder). */
export async function readQueries(queriesPath: string, labels: Set<string>, kbName: string): Promise<EvalQuery[]> {
  const queries = await readJsonl(queriesPath, querySchema);
  const unknown = queries.find((q) => q.label !== null && !labels.has(q.label));
  if (unknown) throw new Error(`${queriesPath}: label "${unknown.label}" is not a topic of ${kbName}`);
  return queries;
}

/** A small seeded PRNG (mulberry32): the same seed picks the same phrasings everywhere. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Keeps `k` phrasings per entry, chosen at random with the seed. */
export function samplePhrasings(entries: EvalEntry[], k: number, seed: number): EvalEntry[] {
  const random = createRandom(seed);
  return entries.map((entry) => {
    const shuffled = [...entry.questions];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j] as string, shuffled[i] as string];
    }
    return { ...entry, questions: shuffled.slice(0, k) };
  });
}
