import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { CustomerChannel, CustomerFileStore, Helpdesk, Language } from '../../core/index.js';
import { isVisibleToCustomer } from '../../core/index.js';
import { apiError, bearerToken } from './api-errors.js';
import { clientOf } from './client-limits.js';
import { imageTypeOf } from './image-type.js';
import { IMAGE_EXTENSIONS, MAX_UPLOAD_BYTES } from './upload-limits.js';
import { toTurnView } from './web-app.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

const received = (language: Language) =>
  language === 'zh'
    ? '已收到您的截图，已和本次对话一起保存，转人工时客服会看到。也请用文字简单描述一下您的问题。'
    : 'Got your screenshot: it is saved with this conversation and agents will see it. Please also describe your question in words.';

/** The file was refused; the code tells the widget which polite text to show. */
const tooLarge = () => apiError(413, 'file_too_large', `The image is larger than ${MAX_UPLOAD_BYTES / (1024 * 1024)} MB.`);

/**
 * Web customers' screenshots. POST /api/conversations/:id/files takes multipart/form-data with the
 * image in `file` and an optional `caption`: the token is checked before the body is read, the
 * type is read from the bytes (PNG, JPEG, WebP, GIF; the declared type and name count for
 * nothing), the name and caption go through the firewall, the bytes are stored sealed under the
 * conversation's key, and only then is the turn recorded that shows it to agents (in Slack through
 * the handoff outbox, and in the console). A refused upload stores nothing; a turn that cannot be
 * recorded takes its file with it. The customer reads their files back with GET …/files/:fileId.
 */
export function createCustomerUploadRoutes(deps: { helpdesk: Helpdesk; files: CustomerFileStore; isNoContentKey: (error: unknown) => boolean }) {
  const { helpdesk, files } = deps;
  const app = new Hono();

  app.post('/api/conversations/:id/files', async (c) => {
    const id = c.req.param('id');
    const conversation = await helpdesk.authorize(id, bearerToken(c), clientOf(c));
    const key = c.req.header('idempotency-key');
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw apiError(400, 'invalid_request', 'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.');
    }
    const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'multipart/form-data') throw apiError(415, 'unsupported_media_type', 'Send the image as multipart/form-data with the field "file".');
    let form: FormData;
    try {
      form = await c.req.raw.formData();
    } catch {
      throw apiError(400, 'invalid_request', 'The form data could not be read.');
    }
    const file = form.get('file');
    const caption = form.get('caption');
    if (!(file instanceof File)) throw apiError(400, 'invalid_request', 'Send the image in the form field "file".');
    if (caption !== null && typeof caption !== 'string') throw apiError(400, 'invalid_request', 'The caption must be text.');
    if (file.size === 0) throw apiError(400, 'empty_file', 'The file is empty.');
    if (file.size > MAX_UPLOAD_BYTES) throw tooLarge();
    const data = new Uint8Array(await file.arrayBuffer());
    const mediaType = imageTypeOf(data);
    if (!mediaType) throw apiError(415, 'unsupported_file_type', 'Only images can be sent: PNG, JPEG, WebP or GIF.');

    const fileId = randomUUID();
    const words = caption?.trim() ?? '';
    // The name and the caption are the customer's text: through the firewall before anything keeps them.
    const message = helpdesk.screen({
      text: words ? `[photo] ${words}` : '[photo]',
      attachments: [{ type: 'photo', fileId, ...(file.name ? { fileName: file.name } : {}), mimeType: mediaType, fileSize: data.byteLength }],
    });
    const fileName = message.attachments[0]?.fileName ?? null;
    try {
      await files.save({ id: fileId, conversationId: id, mediaType, fileName, data });
    } catch (error) {
      if (deps.isNoContentKey(error)) throw apiError(409, 'send_message_first', 'Please send a message first, then the image.');
      throw error;
    }
    let result: Awaited<ReturnType<Helpdesk['recordCustomerTurn']>>;
    try {
      result = await helpdesk.recordCustomerTurn({
        conversationId: id,
        kind: 'attachment',
        message,
        // With the bot: say what happens with it. With agents: they see it, like any message.
        ...(conversation.state === 'escalated' ? {} : { reply: received(conversation.language) }),
        ...(key !== undefined ? { externalKey: `web:${id}:${key}` } : {}),
      });
    } catch (error) {
      await files.remove(fileId);
      throw error;
    }
    // A repeat of an upload already recorded keeps the first file only.
    if (result.outcome === 'duplicate') await files.remove(fileId);
    const stored = result.turns.find((t) => t.role === 'customer')?.data.attachments?.[0];
    return c.json(
      {
        outcome: result.outcome,
        state: result.conversation.state,
        file: { id: stored?.fileId ?? fileId, mediaType, size: data.byteLength },
        turns: result.turns.filter(isVisibleToCustomer).map(toTurnView),
      },
      201,
      result.outcome === 'duplicate' ? { 'idempotent-replayed': 'true' } : undefined,
    );
  });

  /**
   * GET /api/conversations/:id/files/:fileId: a file the customer sent, back to the holder of the
   * conversation's token (the widget shows it again after a reload). Only that conversation's
   * files; another's, an erased one's or an unknown id is a 404. The type is read from the bytes
   * again (an image type or nothing), shown inline, never sniffed, under a CSP that runs nothing,
   * and never cached (an erasure takes it away at once).
   */
  app.get('/api/conversations/:id/files/:fileId', async (c) => {
    const id = c.req.param('id');
    await helpdesk.authorize(id, bearerToken(c), clientOf(c));
    const file = await files.read(c.req.param('fileId'));
    const mediaType = file ? imageTypeOf(file.data) : undefined;
    if (!file || file.conversationId !== id || !mediaType) throw apiError(404, 'not_found', 'No such file in this conversation (never sent, or erased).');
    const name = `screenshot-${file.id.slice(0, 8)}.${IMAGE_EXTENSIONS[mediaType]}`;
    const display = file.fileName ? `; filename*=UTF-8''${encodeURIComponent(file.fileName)}` : '';
    return c.body(new Uint8Array(file.data), 200, {
      'content-type': mediaType,
      'content-length': String(file.data.byteLength),
      'content-disposition': `inline; filename="${name}"${display}`,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'cache-control': 'private, no-store',
    });
  });

  return app;
}

/**
 * The web channel as the handoff desk sees it: web customers read agents' turns by polling the
 * conversation (nothing to deliver), and their files are in the product's own store.
 */
export function createWebCustomerChannel(files: CustomerFileStore): CustomerChannel {
  return {
    async deliver() {
      // The widget fetches new turns itself.
    },
    async fetchFile(attachment) {
      const file = attachment.fileId ? await files.read(attachment.fileId) : undefined;
      if (!file) return { unavailable: 'the file is no longer stored (erased)' };
      return { data: file.data, fileName: file.fileName ?? `screenshot.${IMAGE_EXTENSIONS[file.mediaType]}`, mimeType: file.mediaType };
    },
  };
}
