import { createFirewall, type ScreenedText } from '../../src/core/index.js';

const firewall = createFirewall({ maxMessageChars: 100_000 });

/** Customer text as core stores it: through the secret firewall (tests that append turns directly). */
export const screened = (text: string): ScreenedText => firewall.screen({ text }).text;
