import { describe, expect, it } from 'vitest';
import { parseInline, parseMarkup, safeHref } from '../../src/adapters/web/widget/markup.js';

describe('the widget reads the light markup of answers', () => {
  it('makes bold, italic, code and links of their markers, and leaves the rest as text', () => {
    expect(parseInline('Go to **Security** then *2FA*, run `reset` and see [the guide](https://help.example.com/2fa).')).toEqual([
      { type: 'text', text: 'Go to ' },
      { type: 'strong', children: [{ type: 'text', text: 'Security' }] },
      { type: 'text', text: ' then ' },
      { type: 'em', children: [{ type: 'text', text: '2FA' }] },
      { type: 'text', text: ', run ' },
      { type: 'code', text: 'reset' },
      { type: 'text', text: ' and see ' },
      { type: 'link', text: 'the guide', href: 'https://help.example.com/2fa' },
      { type: 'text', text: '.' },
    ]);
  });

  it('links only http(s) addresses: a javascript: link stays text', () => {
    expect(parseInline('[click](javascript:alert(1)) javascript:alert(2)')).toEqual([
      { type: 'text', text: '[click](javascript:alert(1)) javascript:alert(2)' },
    ]);
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('data:text/html,<b>x</b>')).toBeNull();
    expect(safeHref('https://example.com/a b')).toBe('https://example.com/a%20b');
  });

  it('ends a bare URL before sentence punctuation and Chinese punctuation', () => {
    expect(parseInline('See https://example.com/fees.')).toEqual([
      { type: 'text', text: 'See ' },
      { type: 'link', text: 'https://example.com/fees', href: 'https://example.com/fees' },
      { type: 'text', text: '.' },
    ]);
    expect(parseInline('请访问 https://example.com/zh，谢谢')).toEqual([
      { type: 'text', text: '请访问 ' },
      { type: 'link', text: 'https://example.com/zh', href: 'https://example.com/zh' },
      { type: 'text', text: '，谢谢' },
    ]);
  });

  it('keeps bold markers inside bold text as text, and does not take a lone asterisk for italics', () => {
    expect(parseInline('**a **b** c**')).toEqual([
      { type: 'strong', children: [{ type: 'text', text: 'a ' }] },
      { type: 'text', text: 'b' },
      { type: 'strong', children: [{ type: 'text', text: ' c' }] },
    ]);
    expect(parseInline('*a `b` c*')).toEqual([
      {
        type: 'em',
        children: [
          { type: 'text', text: 'a ' },
          { type: 'code', text: 'b' },
          { type: 'text', text: ' c' },
        ],
      },
    ]);
    expect(parseInline('2 * 3 = 6, a*b')).toEqual([{ type: 'text', text: '2 * 3 = 6, a*b' }]);
  });

  it('groups lines into paragraphs, headings and lists (numbered from their first number, with 、 as in Chinese)', () => {
    const text = '# Steps\nFirst line\nsecond line\n\n3. three\n4. four\n   more on four\n- a bullet\n1、中文第一\n\nend';
    expect(parseMarkup(text)).toEqual([
      { type: 'heading', content: [{ type: 'text', text: 'Steps' }] },
      { type: 'paragraph', lines: [[{ type: 'text', text: 'First line' }], [{ type: 'text', text: 'second line' }]] },
      {
        type: 'list',
        ordered: true,
        start: 3,
        items: [[[{ type: 'text', text: 'three' }]], [[{ type: 'text', text: 'four' }], [{ type: 'text', text: 'more on four' }]]],
      },
      { type: 'list', ordered: false, start: 1, items: [[[{ type: 'text', text: 'a bullet' }]]] },
      { type: 'list', ordered: true, start: 1, items: [[[{ type: 'text', text: '中文第一' }]]] },
      { type: 'paragraph', lines: [[{ type: 'text', text: 'end' }]] },
    ]);
  });

  it('treats Windows and old Mac line ends as line ends, and blank text as nothing', () => {
    expect(parseMarkup('a\r\nb\rc')).toEqual([
      { type: 'paragraph', lines: [[{ type: 'text', text: 'a' }], [{ type: 'text', text: 'b' }], [{ type: 'text', text: 'c' }]] },
    ]);
    expect(parseMarkup(' \n\t\n')).toEqual([]);
  });
});
