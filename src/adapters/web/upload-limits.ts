import type { CustomerImageType } from '../../core/index.js';

/** The largest image a customer may upload (10 MiB). */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** The upload route's body limit: the image plus the multipart framing and a caption. */
export const UPLOAD_BODY_LIMIT_BYTES = MAX_UPLOAD_BYTES + 64 * 1024;
/** POST /api/conversations/:id/files, the upload route (for its body limit). */
export const UPLOAD_PATH = /^\/api\/conversations\/[^/]+\/files$/;

/** The usual file extension of each type (for names of files stored without one). */
export const IMAGE_EXTENSIONS: Record<CustomerImageType, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
};
