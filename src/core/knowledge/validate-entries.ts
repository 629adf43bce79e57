import { z } from 'zod';
import type { KnowledgeEntry } from '../model.js';

/** A knowledge file as read from disk: its front matter parsed, or the reason it could not be. */
export type RawKnowledgeFile = { source: string; frontMatter: unknown; body: string } | { source: string; error: string };

/**
 * What is wrong with one field of an entry: the field's path (`title`, `questions.2`,
 * `links.0.url`, `body`, or `file` for the file as a whole), a stable code a console can show in
 * its own language, the English message, and the limit when there is one.
 */
export interface FieldIssue {
  field: string;
  code: FieldIssueCode;
  message: string;
  limit?: number;
}

export type FieldIssueCode =
  | 'unreadable'
  | 'required'
  | 'invalid_type'
  | 'invalid_id'
  | 'invalid_lang'
  | 'invalid_url'
  | 'too_long'
  | 'too_many'
  | 'html_in_markdown'
  | 'unsafe_link'
  | 'duplicate_id'
  | 'translation_missing'
  | 'translation_same_language'
  | 'unlisted_contact'
  | 'asks_for_secret';

export interface KnowledgeProblem {
  source: string;
  /** Every issue in one line, for logs and the command line. */
  reason: string;
  /** The same, field by field. */
  issues: FieldIssue[];
}

const ID = /^[a-z0-9][a-z0-9._-]{0,127}$/;

/** Limits of one entry: the same for a file and for the console. */
export const ENTRY_LIMITS = {
  titleChars: 300,
  questionChars: 500,
  questions: 200,
  tagChars: 60,
  tags: 50,
  links: 50,
  /** An answer longer than this is not an FAQ answer any more (and would not fit a chat reply). */
  bodyChars: 20_000,
} as const;

const text = z.string({ error: 'must be text' }).trim().min(1, 'must not be empty');
const frontMatterSchema = z.object({
  id: z.string({ error: 'missing id' }).trim().regex(ID, 'id must be lowercase letters, digits, ".", "_" or "-" (at most 128)'),
  lang: z.enum(['zh', 'en'], { error: 'lang must be "zh" or "en"' }),
  title: text.max(ENTRY_LIMITS.titleChars, `at most ${ENTRY_LIMITS.titleChars} characters`),
  questions: z
    .array(text.max(ENTRY_LIMITS.questionChars, `at most ${ENTRY_LIMITS.questionChars} characters`), { error: 'must be a list' })
    .max(ENTRY_LIMITS.questions, `at most ${ENTRY_LIMITS.questions} questions`)
    .default([]),
  tags: z
    .array(text.max(ENTRY_LIMITS.tagChars, `at most ${ENTRY_LIMITS.tagChars} characters`), { error: 'must be a list' })
    .max(ENTRY_LIMITS.tags, `at most ${ENTRY_LIMITS.tags} tags`)
    .default([]),
  links: z
    .array(
      z.object(
        {
          title: text.max(ENTRY_LIMITS.titleChars, `at most ${ENTRY_LIMITS.titleChars} characters`),
          url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
        },
        { error: 'must be {title, url}' },
      ),
      { error: 'must be a list' },
    )
    .max(ENTRY_LIMITS.links, `at most ${ENTRY_LIMITS.links} links`)
    .default([]),
  translation: z.string({ error: 'must be text' }).trim().regex(ID, 'must be the id of an entry in the other language').optional(),
});

function toIssueCode(issue: z.core.$ZodIssue): FieldIssueCode {
  const field = String(issue.path[0] ?? '');
  switch (issue.code) {
    case 'too_small':
      return 'required';
    case 'too_big':
      return issue.origin === 'array' ? 'too_many' : 'too_long';
    case 'invalid_value':
      return field === 'lang' ? 'invalid_lang' : 'invalid_type';
    case 'invalid_format':
      return field === 'links' ? 'invalid_url' : 'invalid_id';
    case 'invalid_type':
      return issue.input === undefined ? 'required' : 'invalid_type';
    default:
      return 'invalid_type';
  }
}

function toIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => {
    const limit = issue.code === 'too_big' ? Number(issue.maximum) : undefined;
    return {
      field: issue.path.length > 0 ? issue.path.join('.') : 'file',
      code: toIssueCode(issue),
      message: issue.message,
      ...(limit !== undefined ? { limit } : {}),
    };
  });
}

/** One line for logs: "field: message; …". */
export function describeIssues(issues: FieldIssue[]): string {
  return issues.map((i) => (i.field === 'file' ? i.message : `${i.field}: ${i.message}`)).join('; ');
}

export function toProblem(source: string, issues: FieldIssue[]): KnowledgeProblem {
  return { source, reason: describeIssues(issues), issues };
}

// A complete HTML tag or comment. Answers are Markdown rendered by our own renderer, which shows
// HTML as text: a tag would reach customers as literal "<b>…</b>", so it is refused with a reason.
const HTML_TAG = /<!--[\s\S]*?-->|<\/?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?\/?>/;
// A Markdown link or image whose target is not an http(s) URL (javascript:, data:, relative…).
const MARKDOWN_LINK = /!?\[[^\]\n]*\]\(\s*([^)\s]*)[^)]*\)/g;

/** Markdown problems of an answer: HTML, links that go nowhere safe, the length limit. */
export function checkMarkdown(body: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (body.length > ENTRY_LIMITS.bodyChars) {
    issues.push({
      field: 'body',
      code: 'too_long',
      message: `at most ${ENTRY_LIMITS.bodyChars} characters (this one has ${body.length})`,
      limit: ENTRY_LIMITS.bodyChars,
    });
  }
  const tag = HTML_TAG.exec(body);
  if (tag) {
    issues.push({
      field: 'body',
      code: 'html_in_markdown',
      message: `contains HTML (${tag[0].slice(0, 40)}): answers are Markdown, and HTML would be shown to customers as text`,
    });
  }
  for (const match of body.matchAll(MARKDOWN_LINK)) {
    const target = match[1] ?? '';
    if (match[0].startsWith('!')) {
      issues.push({ field: 'body', code: 'unsafe_link', message: `images are not shown in the chat: ${match[0].slice(0, 60)}` });
    } else if (!/^https?:\/\/\S+$/i.test(target)) {
      issues.push({ field: 'body', code: 'unsafe_link', message: `links must go to an http(s) address: ${match[0].slice(0, 60)}` });
    }
  }
  return issues;
}

/** One entry's own checks (no other entry needed): its front matter and its Markdown. */
function checkOne(file: Extract<RawKnowledgeFile, { frontMatter: unknown }>): { entry?: KnowledgeEntry; issues: FieldIssue[] } {
  if (file.frontMatter === null || typeof file.frontMatter !== 'object' || Array.isArray(file.frontMatter)) {
    return { issues: [{ field: 'file', code: 'unreadable', message: 'no front matter (expected a --- YAML block with id, lang, title)' }] };
  }
  const result = frontMatterSchema.safeParse(file.frontMatter);
  const issues = result.success ? [] : toIssues(result.error);
  const body = typeof file.body === 'string' ? file.body.trim() : '';
  if (!body) issues.push({ field: 'body', code: 'required', message: 'empty answer: write the answer below the front matter' });
  else issues.push(...checkMarkdown(body));
  if (!result.success || issues.length > 0) return { issues };
  const fm = result.data;
  return {
    issues,
    entry: {
      id: fm.id,
      lang: fm.lang,
      title: fm.title,
      questions: fm.questions,
      tags: fm.tags,
      links: fm.links,
      translation: fm.translation,
      body,
      source: file.source,
    },
  };
}

/**
 * Validates knowledge files one by one and then as a whole (unique ids, translation targets that
 * exist in the other language). A bad entry is reported with its file and reason, field by field,
 * and skipped; the others still load. The console validates an edit with the same function, the
 * edited entry beside the others.
 */
export function validateEntries(files: RawKnowledgeFile[]): {
  entries: KnowledgeEntry[];
  problems: KnowledgeProblem[];
} {
  const problems: KnowledgeProblem[] = [];
  const parsed: KnowledgeEntry[] = [];
  for (const file of files) {
    if ('error' in file) {
      problems.push(toProblem(file.source, [{ field: 'file', code: 'unreadable', message: file.error }]));
      continue;
    }
    const checked = checkOne(file);
    if (checked.entry) parsed.push(checked.entry);
    else problems.push(toProblem(file.source, checked.issues));
  }

  const byId = new Map<string, KnowledgeEntry[]>();
  for (const entry of parsed) byId.set(entry.id, [...(byId.get(entry.id) ?? []), entry]);
  const unique: KnowledgeEntry[] = [];
  for (const [id, group] of byId) {
    if (group.length > 1) {
      for (const entry of group) {
        const others = group.filter((e) => e !== entry).map((e) => e.source);
        problems.push(toProblem(entry.source, [{ field: 'id', code: 'duplicate_id', message: `duplicate id "${id}" (also in ${others.join(', ')})` }]));
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
        problems.push(
          toProblem(entry.source, [{ field: 'translation', code: 'translation_missing', message: `translation "${entry.translation}" does not exist` }]),
        );
        continue;
      }
      if (target.lang === entry.lang) {
        problems.push(
          toProblem(entry.source, [
            { field: 'translation', code: 'translation_same_language', message: `translation "${entry.translation}" is in the same language (${entry.lang})` },
          ]),
        );
        continue;
      }
    }
    entries.push(entry);
  }
  return { entries, problems };
}
