import { describe, expect, it } from 'vitest';
import { type RawKnowledgeFile, validateEntries } from '../../src/core/index.js';

const good = (id: string, lang: string, translation?: string): RawKnowledgeFile => ({
  source: `${lang}/${id}.md`,
  frontMatter: { id, lang, title: `Title ${id}`, questions: ['q1'], tags: ['t'], ...(translation ? { translation } : {}) },
  body: 'An answer.',
});

describe('validateEntries', () => {
  it('loads valid entries linked to their translation', () => {
    const { entries, problems } = validateEntries([good('a-en', 'en', 'a-zh'), good('a-zh', 'zh', 'a-en')]);
    expect(problems).toEqual([]);
    expect(entries.map((e) => e.id)).toEqual(['a-en', 'a-zh']);
  });

  it('reports each malformed entry with its file and reason and keeps the others', () => {
    const files: RawKnowledgeFile[] = [
      good('ok-en', 'en'),
      { source: 'en/broken.md', error: 'bad front matter: unexpected end of the stream' },
      { ...good('x', 'en'), source: 'en/no-id.md', frontMatter: { lang: 'en', title: 't' } },
      good('fr-entry', 'fr'),
      good('dup', 'en'),
      { ...good('dup', 'en'), source: 'en/dup-2.md' },
      good('orphan-en', 'en', 'missing-zh'),
      { ...good('empty', 'en'), body: '   ' },
    ];
    const { entries, problems } = validateEntries(files);
    expect(entries.map((e) => e.id)).toEqual(['ok-en']);
    const bySource = Object.fromEntries(problems.map((p) => [p.source, p.reason]));
    expect(bySource['en/broken.md']).toMatch(/front matter/);
    expect(bySource['en/no-id.md']).toMatch(/id/);
    expect(bySource['fr/fr-entry.md']).toMatch(/lang/);
    expect(bySource['en/dup.md']).toMatch(/duplicate id "dup"/);
    expect(bySource['en/dup-2.md']).toMatch(/duplicate id "dup"/);
    expect(bySource['en/orphan-en.md']).toMatch(/translation "missing-zh" does not exist/);
    expect(bySource['en/empty.md']).toMatch(/empty answer/);
  });

  it('rejects a translation in the same language', () => {
    const { problems } = validateEntries([good('a', 'en', 'b'), good('b', 'en', 'a')]);
    expect(problems.map((p) => p.reason)).toEqual([expect.stringMatching(/same language/), expect.stringMatching(/same language/)]);
  });
});
