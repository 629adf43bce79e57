import { createFirewall, detectSecrets } from '../../src/core/index.js';
import { round, summarize } from './stats.js';

const SIZE = 64 * 1024;
const fill = (unit: string) => unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE);

/**
 * Hostile 64 KB messages (what the web body limit and a Telegram update allow), each aimed at one of
 * the secret detector's loops: context words to look after, separated characters to group, wordlist
 * runs to check, hex strings to classify, look-alike letters to fold, labels to match.
 */
export const HOSTILE_MESSAGES: Readonly<Record<string, string>> = {
  'repeated 助词': fill('助词'),
  'repeated 助记词': fill('助记词'),
  'spaced characters': fill('的 '),
  'spaced pairs': fill('的一 '),
  'wordlist words': fill('abandon ability able about above absent absorb abstract absurd abuse '),
  'a ten-word cycle': fill('abandon ability able about above absent absorb abstract absurd abuse abandon '),
  'hex keys in a deposit message': fill('deposit e9873d79c6d87dc0fb6a5778633389f4453213303da61f20bd67fc233aa33262 '),
  'look-alike letters': fill('аbаndоn '),
  'code labels': fill('验证码'),
  'password labels': fill('password '),
  'unbroken alphanumerics': fill('Ab1'),
  'byte lists': fill('[1,'),
};

/** CPU milliseconds of one call (on a shared machine wall time also counts other processes' turns). */
function cpuMs(run: () => unknown): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/**
 * Screening cost of hostile messages: through the firewall as every channel uses it (MAX_MESSAGE_CHARS
 * 4,000: only that plus a margin is screened), and the detector alone on the whole 64 KB (linear,
 * no bound). Each message `rounds` times after one warm-up; wall and CPU time per message.
 */
export function benchScreening(options: { rounds?: number; maxMessageChars?: number } = {}) {
  const rounds = options.rounds ?? 10;
  const firewall = createFirewall({ maxMessageChars: options.maxMessageChars ?? 4_000 });
  const perMessage: Record<string, { screenMs: number; screenCpuMs: number; detectWhole64kMs: number }> = {};
  const screenWall: number[] = [];
  const detectWall: number[] = [];
  let worstScreenCpu = 0;
  for (const [name, text] of Object.entries(HOSTILE_MESSAGES)) {
    firewall.screen({ text });
    detectSecrets(text);
    const screen: number[] = [];
    const detect: number[] = [];
    let cpu = Number.POSITIVE_INFINITY;
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      cpu = Math.min(
        cpu,
        cpuMs(() => firewall.screen({ text })),
      );
      screen.push(performance.now() - t0);
      const t1 = performance.now();
      detectSecrets(text);
      detect.push(performance.now() - t1);
    }
    screenWall.push(...screen);
    detectWall.push(...detect);
    worstScreenCpu = Math.max(worstScreenCpu, cpu);
    perMessage[name] = {
      screenMs: round(Math.min(...screen)),
      screenCpuMs: round(cpu),
      detectWhole64kMs: round(Math.min(...detect)),
    };
  }
  return {
    messageBytes: SIZE,
    rounds,
    screen: { ...summarize(screenWall), worstMessageCpuMs: round(worstScreenCpu), targetMs: 20 },
    detectWhole64k: summarize(detectWall),
    perMessage,
  };
}
