import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toLocalEmbedding } from '../../src/adapters/local/local-embedder.js';

const fingerprint = (vector: number[]) => createHash('sha256').update(JSON.stringify(vector)).digest('hex');

describe('the offline embedder', () => {
  // Stored knowledge vectors were computed by it: a query must land in the same space, on every
  // machine and in every version that keeps the embedder's id (local-hash-v1-512).
  it.each([
    ['My BTC deposit has not arrived after 2 hours, what should I do?', 'e8735c15d7a8898317213765d8c445711982ace5d951fd39bf3b4c73fc2eef32'],
    ['我的提现一直没有到账', '48b91a5ac2aac19cd3bddd3d63dfd58b6085aa2c5dbfe92b4030c075afdc557b'],
    ['我的提現一直沒有到賬，怎麼辦？', '718a3a80655e5e09eab13145742b199e6b27933b6a49de87414147706d38afcf'],
    ['withdrawl pending 2fa resett', 'a131c516ec4a197e9ad055e877bf2fe735f8180f0bd05548731343ab1d9bb0f0'],
  ])('embeds %j to the same vector as the knowledge index holds', (text, expected) => {
    expect(fingerprint(toLocalEmbedding(text))).toBe(expected);
  });

  it('gives unit-length vectors, and the zero vector to a text without features', () => {
    const norm = Math.hypot(...toLocalEmbedding('reset my 2FA'));
    expect(norm).toBeCloseTo(1, 5);
    expect(toLocalEmbedding('?!…').every((x) => x === 0)).toBe(true);
  });
});
