import type { TurnView } from './api.js';
import { renderLocalNotice, renderPending, renderTurn, type TurnContext } from './render.js';
import type { TextKey, Texts } from './texts.js';

/** The turns in a server answer: the entries with a numeric seq (each field is checked when rendered). */
export function readTurns(value: unknown): TurnView[] {
  if (!Array.isArray(value)) return [];
  return value.filter((t): t is TurnView => t !== null && typeof t === 'object' && typeof (t as { seq?: unknown }).seq === 'number');
}

export interface MessageList {
  /** The highest seq shown. */
  readonly lastSeq: number;
  /**
   * Shows the turns not shown yet, in seq order. A customer turn replaces its optimistic copy (the
   * given one, or one with the same text). Returns how many turns came from someone else.
   */
  apply(turns: readonly TurnView[], pending: HTMLElement | null, ctx: TurnContext): number;
  /** The customer's message while it is sent; it stays below every turn until replaced. */
  addPending(text: string, ctx: Pick<TurnContext, 'texts' | 'language'>): HTMLLIElement;
  /** A notice above the conversation's turns. */
  addLocalNotice(key: TextKey, texts: Texts): void;
  /** Removes every turn and notice, keeping messages still being sent. */
  reset(): void;
}

/** The conversation as an ordered list of turns, each shown once (polls and answers may overlap). */
export function createMessageList(list: HTMLOListElement): MessageList {
  let shown = new Map<number, HTMLLIElement>();
  let lastSeq = 0;

  function insertBySeq(li: HTMLLIElement, seq: number): void {
    for (const child of Array.from(list.children)) {
      const childSeq = child.getAttribute('data-seq');
      if (child.hasAttribute('data-pending') || (childSeq !== null && childSeq !== '' && Number(childSeq) > seq)) {
        list.insertBefore(li, child);
        return;
      }
    }
    list.appendChild(li);
  }

  function findPendingByText(text: unknown): Element | null {
    const wanted = String(text ?? '').trim();
    return Array.from(list.querySelectorAll('[data-pending="true"]')).find((el) => el.getAttribute('data-text') === wanted) ?? null;
  }

  return {
    get lastSeq() {
      return lastSeq;
    },
    apply(turns, pending, ctx) {
      let fromOthers = 0;
      let own: HTMLElement | null = pending;
      for (const turn of turns) {
        if (shown.has(turn.seq)) continue;
        const li = renderTurn(turn, ctx);
        if (turn.role === 'customer') {
          const copy = own?.parentNode ? own : findPendingByText(turn.text);
          if (copy?.parentNode) {
            copy.parentNode.removeChild(copy);
            if (copy === own) own = null;
          }
        } else {
          fromOthers++;
        }
        insertBySeq(li, turn.seq);
        shown.set(turn.seq, li);
        if (turn.seq > lastSeq) lastSeq = turn.seq;
      }
      return fromOthers;
    },
    addPending(text, ctx) {
      const li = renderPending(text, ctx);
      list.appendChild(li);
      return li;
    },
    addLocalNotice(key, texts) {
      list.insertBefore(renderLocalNotice(key, texts), list.firstChild);
    },
    reset() {
      for (const child of Array.from(list.children)) {
        if (!child.hasAttribute('data-pending')) list.removeChild(child);
      }
      shown = new Map();
      lastSeq = 0;
    },
  };
}
