import type { Hono, MiddlewareHandler } from 'hono';
import type { CustomerFileStore, Principal, StoredFileInfo } from '../../../core/index.js';
import { apiError } from '../api-errors.js';
import { IMAGE_EXTENSIONS } from '../upload-limits.js';

type Env = { Variables: { principal: Principal } };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What staff see of a customer's file; `url` fetches its bytes with the same sign-in. */
export function toFileView(file: StoredFileInfo) {
  return {
    id: file.id,
    conversationId: file.conversationId,
    mediaType: file.mediaType,
    size: file.size,
    fileName: file.fileName,
    createdAt: file.createdAt.toISOString(),
    url: `/api/admin/conversations/${file.conversationId}/files/${file.id}`,
  };
}

/**
 * Customers' files for staff (the console's inbox, scripts with the admin token):
 * GET /api/admin/conversations/:id/files lists a conversation's files, and
 * GET /api/admin/conversations/:id/files/:fileId answers the bytes with the type read from them
 * when they were uploaded. The bytes are served as an attachment with nosniff, under a CSP that
 * runs nothing, so an image can be shown (an <img> of this URL) but never act as a page.
 */
export function addCustomerFileRoutes(
  app: Hono<Env>,
  deps: { files: CustomerFileStore; signedIn: MiddlewareHandler<Env>; allowed: MiddlewareHandler<Env> },
): void {
  const { files } = deps;
  app.use('/api/admin/conversations/:id/files', deps.signedIn, deps.allowed);
  app.use('/api/admin/conversations/:id/files/*', deps.signedIn, deps.allowed);
  const conversationId = (id: string | undefined) => {
    if (!UUID.test(id ?? '')) throw apiError(400, 'invalid_request', 'The conversation id is not valid (expected a UUID).');
    return id as string;
  };

  app.get('/api/admin/conversations/:id/files', async (c) => {
    const listed = await files.list(conversationId(c.req.param('id')));
    return c.json({ files: listed.map(toFileView) });
  });

  app.get('/api/admin/conversations/:id/files/:fileId', async (c) => {
    const id = conversationId(c.req.param('id'));
    const fileId = c.req.param('fileId');
    if (!UUID.test(fileId)) throw apiError(400, 'invalid_request', 'The file id is not valid (expected a UUID).');
    const file = await files.read(fileId);
    // Another conversation's file is as unknown here as an erased one.
    if (!file || file.conversationId !== id) throw apiError(404, 'not_found', 'No such file (never uploaded, or erased).');
    const name = `screenshot-${file.id.slice(0, 8)}.${IMAGE_EXTENSIONS[file.mediaType]}`;
    const display = file.fileName ? `; filename*=UTF-8''${encodeURIComponent(file.fileName)}` : '';
    return c.body(new Uint8Array(file.data), 200, {
      'content-type': file.mediaType,
      'content-length': String(file.size),
      'content-disposition': `inline; filename="${name}"${display}`,
      'content-security-policy': "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
      'cache-control': 'private, no-store',
    });
  });
}
