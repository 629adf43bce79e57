import type { KeyValueStore } from './storage.js';

/** Where the customer's sound choice is kept (off unless they turn it on). */
export const SOUND_KEY = 'examplex-helpdesk-sound';

export interface ReplyNotifier {
  /** Agents' replies arrived: counted in the tab's title while the page is hidden, with a chime if wanted. */
  agentReplied(count: number): void;
  readonly soundOn: boolean;
  /** Turns the chime on or off (remembered); called from a click, which lets the page play audio. */
  setSound(on: boolean): void;
}

type AudioContextClass = typeof AudioContext;

/**
 * Tells a customer who looks elsewhere that an agent replied: "(1) New reply" as the tab's title
 * until the page is seen again, and, when they turned it on, a short two-note chime made with
 * WebAudio (nothing is downloaded).
 */
export function createReplyNotifier(options: { store: KeyValueStore; title: (count: number) => string }): ReplyNotifier {
  let unseen = 0;
  let original: string | null = null;
  let soundOn = options.store.get(SOUND_KEY) === 'on';
  let audio: AudioContext | null = null;

  const hidden = () => document.visibilityState === 'hidden';

  function context(): AudioContext | null {
    if (audio) return audio;
    const Ctor = (window.AudioContext ?? (window as Window & { webkitAudioContext?: AudioContextClass }).webkitAudioContext) as AudioContextClass | undefined;
    if (!Ctor) return null;
    try {
      audio = new Ctor();
    } catch {
      return null;
    }
    return audio;
  }

  function chime(): void {
    const ctx = context();
    if (!ctx) return;
    void ctx.resume().catch(() => undefined);
    const start = ctx.currentTime + 0.01;
    for (const [i, frequency] of [880, 1320].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = frequency;
      const at = start + i * 0.14;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.25);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.3);
    }
  }

  function restore(): void {
    if (original !== null) document.title = original;
    original = null;
    unseen = 0;
  }

  document.addEventListener('visibilitychange', () => {
    if (!hidden()) restore();
  });

  return {
    agentReplied(count) {
      if (count <= 0 || !hidden()) return;
      if (original === null) original = document.title;
      unseen += count;
      document.title = options.title(unseen);
      if (soundOn) chime();
    },
    get soundOn() {
      return soundOn;
    },
    setSound(on) {
      soundOn = on;
      options.store.set(SOUND_KEY, on ? 'on' : 'off');
      // Created in the click: browsers let a page start audio only after a gesture.
      if (on)
        void context()
          ?.resume()
          .catch(() => undefined);
    },
  };
}
