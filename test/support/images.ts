import { randomBytes } from 'node:crypto';

/** An image of the given type: its real signature, then bytes that name this run (found again byte for byte). */
export function imageBytes(type: 'png' | 'jpeg' | 'webp' | 'gif', marker: string, size?: number): Buffer {
  const head = {
    png: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
    webp: Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x10, 0, 0, 0]), Buffer.from('WEBPVP8 ')]),
    gif: Buffer.from('GIF89a'),
  }[type];
  const body = Buffer.concat([head, Buffer.from(marker, 'utf8'), randomBytes(64)]);
  if (size === undefined || size <= body.length) return body;
  return Buffer.concat([body, Buffer.alloc(size - body.length, 7)]);
}
