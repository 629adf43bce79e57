import { z } from 'zod';
import type { KnowledgeEntry } from '../model.js';

/** A knowledge file as read from disk: its front matter parsed, or the reason it could not be. */
export type RawKnowledgeFile =
  | { source: string; frontMatter: unknown; body: string }
  | { source: string; error: string };

export interface KnowledgeProblem {
  source: string;
  reason: string;
}

const ID = /^[a-z0-9][a-z0-9._-]{0,127}$/;

const text = z.string().trim().min(1);
const frontMatterSchema = z.object({
  id: z.string({ error: 'missing id' }).trim().regex(ID, 'id must be lowercase letters, digits, ".", "_" or "-"'),
  lang: z.enum(['zh', 'en'], { error: 'lang must be "zh" or "en"' }),
  title: text.max(300),
  questions: z.array(text.max(500)).max(200).default([]),
  tags: z.array(text.max(60)).max(50).default([]),
  links: z.array(z.object({ title: text.max(300), url: z.url({ protocol: /^https?$/ }) })).max(50).default([]),
  translation: z.string().trim().regex(ID).optional(),
});

function describe(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/**
 * Validates knowledge files one by one and then as a whole (unique ids, translation targets that
 * exist in the other language). A bad entry is reported with its file and reason and skipped; the
 * others still load.
 */
export function validateEntries(files: RawKnowledgeFile[]): {
  entries: KnowledgeEntry[];
  problems: KnowledgeProblem[];
} {
  const problems: KnowledgeProblem[] = [];
  const parsed: KnowledgeEntry[] = [];
  for (const file of files) {
    if ('error' in file) {
      problems.push({ source: file.source, reason: file.error });
      continue;
    }
    if (file.frontMatter === null || typeof file.frontMatter !== 'object' || Array.isArray(file.frontMatter)) {
      problems.push({ source: file.source, reason: 'no front matter (expected a --- YAML block with id, lang, title)' });
      continue;
    }
    const result = frontMatterSchema.safeParse(file.frontMatter);
    if (!result.success) {
      problems.push({ source: file.source, reason: describe(result.error) });
      continue;
    }
    const body = file.body.trim();
    if (!body) {
      problems.push({ source: file.source, reason: 'empty answer: write the answer below the front matter' });
      continue;
    }
    const fm = result.data;
    parsed.push({
      id: fm.id,
      lang: fm.lang,
      title: fm.title,
      questions: fm.questions,
      tags: fm.tags,
      links: fm.links,
      translation: fm.translation,
      body,
      source: file.source,
    });
  }

  const byId = new Map<string, KnowledgeEntry[]>();
  for (const entry of parsed) byId.set(entry.id, [...(byId.get(entry.id) ?? []), entry]);
  const unique: KnowledgeEntry[] = [];
  for (const [id, group] of byId) {
    if (group.length > 1) {
      for (const entry of group) {
        const others = group.filter((e) => e !== entry).map((e) => e.source);
        problems.push({ source: entry.source, reason: `duplicate id "${id}" (also in ${others.join(', ')})` });
      }
    } else if (group[0]) {
      unique.push(group[0]);
    }
  }

  const ids = new Map(unique.map((e) => [e.id, e]));
  const entries: KnowledgeEntry[] = [];
  for (const entry of unique) {
    if (entry.translation !== undefined) {
      const target = ids.get(entry.translation);
      if (!target) {
        problems.push({ source: entry.source, reason: `translation "${entry.translation}" does not exist` });
        continue;
      }
      if (target.lang === entry.lang) {
        problems.push({
          source: entry.source,
          reason: `translation "${entry.translation}" is in the same language (${entry.lang})`,
        });
        continue;
      }
    }
    entries.push(entry);
  }
  return { entries, problems };
}
