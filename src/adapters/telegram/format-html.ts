/**
 * Escapes text for Telegram's HTML parse mode. Knowledge-base and model text is always escaped,
 * never interpreted: a stray `<`, `&` or MarkdownV2 character cannot make Telegram refuse a reply.
 */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
