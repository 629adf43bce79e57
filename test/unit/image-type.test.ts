import { describe, expect, it } from 'vitest';
import { imageTypeOf } from '../../src/adapters/web/image-type.js';

const bytes = (...parts: Array<string | number[]>) => new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? Array.from(p, (c) => c.charCodeAt(0)) : p)));

const cases: Array<[string, Uint8Array, string | undefined]> = [
  ['PNG', bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a], 'rest'), 'image/png'],
  ['JPEG', bytes([0xff, 0xd8, 0xff, 0xe1], 'Exif'), 'image/jpeg'],
  ['GIF87a', bytes('GIF87a', [1, 0]), 'image/gif'],
  ['GIF89a', bytes('GIF89a', [1, 0]), 'image/gif'],
  ['WebP', bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8L'), 'image/webp'],
  ['a RIFF that is a WAVE sound', bytes('RIFF', [0, 0, 0, 0], 'WAVEfmt '), undefined],
  ['a PNG signature cut short', bytes([0x89], 'PNG', [0x0d, 0x0a]), undefined],
  ['SVG (an image that runs scripts)', bytes('<svg xmlns="http://www.w3.org/2000/svg">'), undefined],
  ['HTML', bytes('<!doctype html><script>'), undefined],
  ['PDF', bytes('%PDF-1.7'), undefined],
  ['nothing', bytes(), undefined],
];

describe('the image type of a file by its first bytes', () => {
  it.each(cases)('%s', (_name, input, expected) => {
    // The server checks uploads and the widget refuses files before sending them with this one function.
    expect(imageTypeOf(input)).toBe(expected);
  });
});
