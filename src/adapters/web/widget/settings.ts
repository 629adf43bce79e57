/**
 * What the product tells the widget about itself. The server puts these into the bundle it serves
 * (see ../widget-routes.ts), so an embedded widget needs no extra request before it can render.
 */
export interface WidgetSettings {
  /** The exchange's name (EXCHANGE_NAME): the chat's title, the assistant's name, the launcher's label. */
  exchangeName: string;
  /** The longest message the server takes whole (MAX_MESSAGE_CHARS); the composer stops there. */
  maxMessageChars: number;
  /** The longest input the official-channel check accepts. */
  verifyMaxChars: number;
  /** The largest image the server takes (bytes); bigger ones are refused before uploading. */
  maxUploadBytes: number;
}

/** The composer shows its character counter from 7/8 of the limit on (3500 of 4000). */
export function counterThreshold(maxMessageChars: number): number {
  return Math.floor((maxMessageChars * 7) / 8);
}
