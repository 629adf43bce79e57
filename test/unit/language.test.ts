import { describe, expect, it } from 'vitest';
import { detectLanguage, detectLanguageSwitch, detectLocale } from '../../src/core/index.js';

describe('detectLanguage', () => {
  it.each([
    ['我的提现一直没到账', 'zh'],
    ['提現記錄在哪裡', 'zh'],
    ['USDT 提现 pending 怎么办', 'zh'],
    ['How do I reset my password?', 'en'],
    ['my name is 李 and my withdrawal failed', 'en'],
  ])('reads %s as %s', (text, language) => {
    expect(detectLanguage(text)).toBe(language);
  });

  it('leaves messages without letters undetected', () => {
    expect(detectLanguage('123 456 ???')).toBeUndefined();
  });
});

describe('detectLanguageSwitch', () => {
  it('recognizes explicit switches in both languages', () => {
    expect(detectLanguageSwitch('English please')).toBe('en');
    expect(detectLanguageSwitch('说中文')).toBe('zh');
    expect(detectLanguageSwitch('请用英文')).toBe('en');
  });

  it("leaves a channel's command to its channel: /lang is not read as words", () => {
    expect(detectLanguageSwitch('/lang zh')).toBeUndefined();
    expect(detectLanguageSwitch('/lang en')).toBeUndefined();
  });

  it('does not treat a question mentioning a language as a switch', () => {
    expect(detectLanguageSwitch('Is the English version of the app available?')).toBeUndefined();
  });
});

describe('detectLocale', () => {
  it.each([
    ['我的提现一直没到账', 'zh-Hans'],
    ['我的提現一直沒到賬', 'zh-Hant'],
    ['USDT提領pending了，怎麼還沒到', 'zh-Hant'],
    ['你好', 'zh-Hans'],
    ['How do I reset my 2FA?', 'en'],
  ])('reads %s as %s', (text, locale) => {
    expect(detectLocale(text)).toBe(locale);
  });

  it('leaves messages without letters undetected', () => {
    expect(detectLocale('👍')).toBeUndefined();
  });
});
