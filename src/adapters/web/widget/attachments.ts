import { IMAGE_TYPES, imageTypeOf } from '../image-type.js';
import type { Api } from './api.js';

/** The accept attribute of the file picker (a hint to the picker only; the bytes decide). */
export const IMAGE_ACCEPT = IMAGE_TYPES.join(',');

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

/**
 * A file the customer sent, fetched back with the conversation's token (GET …/files/:fileId): the
 * image as a Blob when the answer is one by its type and its bytes; null when the server has no such
 * file (404: erased, or another conversation's); undefined when it could not be fetched now.
 */
export async function fetchImage(api: Api, path: string, token: string, timeoutMs: number): Promise<Blob | null | undefined> {
  try {
    const res = await api.fetch('GET', path, { token, timeoutMs });
    if (res.status === 404) return null;
    if (!res.ok) return undefined;
    const type = (res.headers.get('Content-Type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const blob = await res.blob();
    const head = new Uint8Array(await blob.slice(0, 16).arrayBuffer());
    return (IMAGE_TYPES as readonly string[]).includes(type) && imageTypeOf(head) === type ? blob : null;
  } catch {
    return undefined;
  }
}
