/** The image types the server takes, by their first bytes (the server checks again: ../sniff-image.ts). */
export type ImageType = 'image/png' | 'image/jpeg' | 'image/webp' | 'image/gif';

/** The accept attribute of the file picker (a hint to the picker only; the bytes decide). */
export const IMAGE_ACCEPT = 'image/png,image/jpeg,image/webp,image/gif';

const starts = (b: Uint8Array, sig: readonly number[], at = 0) => b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);
const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));

/** The image type of a file's first bytes; null when it is none of the four. */
export function imageTypeOf(head: Uint8Array): ImageType | null {
  if (starts(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts(head, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts(head, ascii('GIF87a')) || starts(head, ascii('GIF89a'))) return 'image/gif';
  if (starts(head, ascii('RIFF')) && starts(head, ascii('WEBP'), 8)) return 'image/webp';
  return null;
}

/** Why a picked file cannot be sent, before any byte goes over the network; null when it can. */
export async function checkImage(file: File, maxBytes: number): Promise<'too_big' | 'wrong_type' | 'empty' | null> {
  if (file.size === 0) return 'empty';
  if (file.size > maxBytes) return 'too_big';
  const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
  return imageTypeOf(head) ? null : 'wrong_type';
}

export interface UploadAnswer {
  status: number;
  /** The JSON body (null when none could be read). */
  data: Record<string, unknown> | null;
}

/**
 * Posts the image (multipart: `file`, and `caption` when given) with the conversation's token.
 * XMLHttpRequest, not fetch: only it reports the upload's progress. Resolves with any HTTP answer;
 * rejects (status 0) when none comes.
 */
export function uploadImage(options: {
  url: string;
  token: string;
  file: File;
  caption: string;
  idempotencyKey: string;
  onProgress: (fraction: number) => void;
  timeoutMs?: number;
}): Promise<UploadAnswer> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', options.url);
    xhr.setRequestHeader('Authorization', `Bearer ${options.token}`);
    xhr.setRequestHeader('Idempotency-Key', options.idempotencyKey);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.timeout = options.timeoutMs ?? 120_000;
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) options.onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let data: Record<string, unknown> | null = null;
      try {
        const parsed: unknown = JSON.parse(xhr.responseText);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) data = parsed as Record<string, unknown>;
      } catch {
        // not JSON
      }
      resolve({ status: xhr.status, data });
    };
    xhr.onerror = () => reject(new Error('network'));
    xhr.ontimeout = () => reject(new Error('timeout'));
    const form = new FormData();
    form.append('file', options.file, options.file.name || 'screenshot');
    if (options.caption) form.append('caption', options.caption);
    xhr.send(form);
  });
}
