import type { CustomerImageType } from '../../core/index.js';

/** The largest image a customer may upload (10 MiB). */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** The upload route's body limit: the image plus the multipart framing and a caption. */
export const UPLOAD_BODY_LIMIT_BYTES = MAX_UPLOAD_BYTES + 64 * 1024;
/** POST /api/conversations/:id/files, the upload route (for its body limit). */
export const UPLOAD_PATH = /^\/api\/conversations\/[^/]+\/files$/;

const startsWith = (bytes: Uint8Array, signature: readonly number[], at = 0) =>
  bytes.length >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/**
 * The image type of a file by its first bytes (its signature), whatever name or type the client
 * declared: PNG, JPEG, WebP or GIF; undefined for anything else. A signature is what browsers and
 * image decoders themselves go by, so an image that passes is shown as that type and nothing else.
 */
export function sniffImageType(bytes: Uint8Array): CustomerImageType | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'image/gif';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'image/webp';
  return undefined;
}

/** The usual file extension of each type (for names of files stored without one). */
export const IMAGE_EXTENSIONS: Record<CustomerImageType, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
};
