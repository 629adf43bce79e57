import type { FieldIssue, RawKnowledgeFile } from '../knowledge/validate-entries.js';
import type { KnowledgeEntry } from '../model.js';
import { type OfficialAllowlist, withKnowledgeLinks } from './official-channels.js';
import { asksForSecret, findContacts } from './outbound-guard.js';
import { isAllowedContact } from './official-channels.js';

/** The URLs the knowledge files cite in their `links`, which the bot may mention. */
export function toKnowledgeLinks(files: RawKnowledgeFile[]): string[] {
  const links: string[] = [];
  for (const file of files) {
    if ('error' in file) continue;
    const fm = file.frontMatter as { links?: unknown } | null;
    if (!fm || !Array.isArray(fm.links)) continue;
    for (const link of fm.links) {
      const url = (link as { url?: unknown } | null)?.url;
      if (typeof url === 'string') links.push(url);
    }
  }
  return links;
}

/**
 * Turns a knowledge file that names a contact not on the official allowlist (and not among the
 * knowledge base's own links) into a file error, so that sync reports and skips it like any
 * malformed file. Title, questions and answer are checked.
 */
export function rejectUnlistedContacts(
  files: RawKnowledgeFile[],
  allowlist: OfficialAllowlist,
): { files: RawKnowledgeFile[]; rejected: Array<{ source: string; contacts: string[] }> } {
  const allowed = withKnowledgeLinks(allowlist, toKnowledgeLinks(files));
  const rejected: Array<{ source: string; contacts: string[] }> = [];
  const checked = files.map((file): RawKnowledgeFile => {
    if ('error' in file) return file;
    const fm = (file.frontMatter ?? {}) as { title?: unknown; questions?: unknown };
    const texts = [
      file.body,
      typeof fm.title === 'string' ? fm.title : '',
      ...(Array.isArray(fm.questions) ? fm.questions.filter((q): q is string => typeof q === 'string') : []),
    ];
    const unlisted = [
      ...new Set(
        texts
          .flatMap((t) => findContacts(t))
          .filter((c) => !isAllowedContact(c.value, allowed))
          .map((c) => c.value),
      ),
    ];
    if (asksForSecret(file.body)) {
      rejected.push({ source: file.source, contacts: [] });
      return { source: file.source, error: 'asks the customer for a secret (recovery phrase, private key, password or 2FA code): support never does' };
    }
    if (unlisted.length === 0) return file;
    rejected.push({ source: file.source, contacts: unlisted });
    return {
      source: file.source,
      error: `names a contact that is not on the official allowlist: ${unlisted.join(', ')} (add it to the OFFICIAL_* settings or the entry's links if it is really ours)`,
    };
  });
  return { files: checked, rejected };
}

/**
 * The same check for one entry, field by field (the console shows each issue at its field):
 * contacts in the title, a question or the answer that are neither official nor among `allowed`'s
 * knowledge-base links, and an answer that asks for a secret.
 */
export function checkEntryContacts(entry: Pick<KnowledgeEntry, 'title' | 'questions' | 'body'>, allowed: OfficialAllowlist): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const fields: Array<[string, string]> = [
    ['title', entry.title],
    ...entry.questions.map((q, i): [string, string] => [`questions.${i}`, q]),
    ['body', entry.body],
  ];
  for (const [field, text] of fields) {
    const unlisted = [
      ...new Set(
        findContacts(text)
          .filter((c) => !isAllowedContact(c.value, allowed))
          .map((c) => c.value),
      ),
    ];
    if (unlisted.length > 0) {
      issues.push({
        field,
        code: 'unlisted_contact',
        message: `names a contact that is not on the official allowlist: ${unlisted.join(', ')} (add it to the OFFICIAL_* settings or the entry's links if it is really ours)`,
      });
    }
  }
  if (asksForSecret(entry.body)) {
    issues.push({
      field: 'body',
      code: 'asks_for_secret',
      message: 'asks the customer for a secret (recovery phrase, private key, password or 2FA code): support never does',
    });
  }
  return issues;
}
