/**
 * The environment variables that point the running product at the stand-ins, as an operator's
 * .env points it at Slack and Telegram.
 */
import type { FakeSlack } from '../stand-ins/fake-slack.js';
import type { FakeTelegram } from '../stand-ins/fake-telegram.js';

/** The Slack desk on the Slack stand-in (events over HTTP), its outbox swept and retried fast. */
export function slackStandInEnv(slack: FakeSlack, supportChannel: string): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: slack.signingSecret,
    SLACK_SUPPORT_CHANNEL: supportChannel,
    SLACK_API_URL: slack.apiUrl,
    SLACK_OUTBOX_POLL_MS: '100',
    SLACK_RETRY_BASE_MS: '10',
  };
}

/** The Telegram bot on the Telegram stand-in, its updates coming to the webhook on the product's `port`. */
export function telegramStandInEnv(telegram: FakeTelegram, port: number, webhookSecret: string): Record<string, string> {
  return {
    TELEGRAM_BOT_TOKEN: telegram.token,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/webhook`,
    TELEGRAM_WEBHOOK_SECRET: webhookSecret,
  };
}
