import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HostPage {
  /** URL of the host page, on its own port (so a different origin from the helpdesk). */
  url: string;
  close(): Promise<void>;
}

/**
 * A stand-in for a customer's website: a plain node:http server on 127.0.0.1 that serves one HTML
 * page with `snippet` (e.g. the widget's <script> tag) at the end of its body, and 404 for anything else.
 */
export async function startHostPage(snippet: string): Promise<HostPage> {
  const html = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>ExampleX exchange</title></head>
  <body>
    <h1>ExampleX exchange</h1>
    <p>Markets, wallets and more.</p>
    ${snippet}
  </body>
</html>
`;
  const server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/' || req.url === '/index.html')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(html);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
