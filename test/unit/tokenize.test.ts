import { describe, expect, it } from 'vitest';
import { normalizeText, stemEnglish, toTerms } from '../../src/core/index.js';

describe('toTerms', () => {
  it('gives Chinese character bigrams whatever the dictionary segments', () => {
    expect(toTerms('我的提现一直没到账')).toEqual(expect.arrayContaining(['提现', '到账']));
  });

  it('makes a Traditional Chinese question meet Simplified text', () => {
    const traditional = toTerms('提現記錄在哪裡看');
    expect(traditional).toEqual(expect.arrayContaining(['提现', '记录']));
  });

  it('drops stopwords and stems English words', () => {
    expect(toTerms('My withdrawals are pending')).toEqual(['withdrawal', 'pend']);
  });

  it('folds full-width characters', () => {
    expect(normalizeText('ＵＳＤＴ')).toBe('usdt');
  });

  it('maps word forms to one stem', () => {
    expect(stemEnglish('locked')).toBe(stemEnglish('lock'));
    expect(stemEnglish('deposits')).toBe(stemEnglish('deposit'));
    expect(stemEnglish('verifies')).toBe(stemEnglish('verify'));
  });
});
