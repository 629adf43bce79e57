import { describe, expect, it } from 'vitest';
import { detectChineseScript, toSimplifiedChinese, toTraditionalChinese } from '../../src/core/chinese-script.js';
import { normalizeText, toTerms } from '../../src/core/index.js';

describe('detectChineseScript', () => {
  it.each([
    ['我的提现一直没到账', 'hans'],
    ['帐号被冻结了怎么办', 'hans'],
    ['我的提現一直沒到帳', 'hant'],
    ['請問帳號被凍結了怎麼辦？', 'hant'],
    ['USDT提領pending了，怎麼還沒到', 'hant'],
    ['USDT提现pending了，怎么还没到', 'hans'],
    ['裏面的錢呢', 'hant'],
  ])('reads %s as %s', (text, script) => {
    expect(detectChineseScript(text)).toBe(script);
  });

  it('leaves text without script-specific characters undecided', () => {
    expect(detectChineseScript('你好')).toBeUndefined();
    expect(detectChineseScript('hello, my withdrawal failed')).toBeUndefined();
    expect(detectChineseScript('🙏🙏')).toBeUndefined();
  });
});

describe('conversion between the scripts', () => {
  it('converts Simplified bot text to Traditional, picking the right character by context', () => {
    expect(toTraditionalChinese('您好！请问有什么可以帮您？')).toBe('您好！請問有什麼可以幫您？');
    expect(toTraditionalChinese('头发 发现 后台 提现记录')).toBe('頭髮 發現 後臺 提現記錄');
    expect(toTraditionalChinese('USDT (TRC-20) 提现到账了')).toBe('USDT (TRC-20) 提現到賬了');
  });

  it('folds Traditional to Simplified and leaves Simplified text untouched', () => {
    expect(toSimplifiedChinese('帳號被凍結，裏面的幣還在嗎')).toBe('帐号被冻结，里面的币还在吗');
    // A Simplified word that is also a Taiwanese phrase keeps its meaning (no phrase rewriting).
    expect(toSimplifiedChinese('下载聊天记录文件')).toBe('下载聊天记录文件');
  });

  it('gives a Traditional question the terms of its Simplified form', () => {
    expect(normalizeText('提現記錄')).toBe('提现记录');
    expect(toTerms('我的提現沒到賬')).toEqual(toTerms('我的提现没到账'));
  });
});
