/** What the server writes into the console's bundle (console-routes.ts). */
export interface ConsoleSettings {
  exchangeName: string;
  /** The entry limits of the validator (counters and maxlength in the editor). */
  limits: { titleChars: number; questionChars: number; questions: number; tagChars: number; tags: number; links: number; bodyChars: number };
}

declare const __CONSOLE_SETTINGS__: ConsoleSettings | undefined;

export const SETTINGS: ConsoleSettings =
  typeof __CONSOLE_SETTINGS__ !== 'undefined'
    ? __CONSOLE_SETTINGS__
    : { exchangeName: 'ExampleX', limits: { titleChars: 300, questionChars: 500, questions: 200, tagChars: 60, tags: 50, links: 50, bodyChars: 20000 } };
