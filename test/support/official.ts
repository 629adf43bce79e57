/** The official contacts of the starter knowledge base, as .env.example configures them. */
export const OFFICIAL = {
  urls: ['https://www.examplex.example', 'https://support.examplex.example', 'https://status.examplex.example'],
  telegramHandles: ['@ExampleXSupportBot', '@ExampleXAnnouncements'],
  emails: ['support@examplex.example'],
  phones: [],
};

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
