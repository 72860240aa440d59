/**
 * The floor for the sync benchmark: a bare node:http server that does what any JSON endpoint must
 * (read the POST body, JSON.parse it, answer JSON) and nothing else: no auth, no validation, no
 * store. Run as its own process: `PORT=0 node dist/bench/bare-server.js` prints
 * `bare server listening on http://127.0.0.1:<port>` and stops on SIGTERM/SIGINT.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

let version = 0;

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let parsed: { data?: unknown };
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: unknown };
    } catch {
      res.writeHead(400, { 'content-type': 'application/problem+json' });
      res.end('{"status":400,"title":"Malformed JSON"}');
      return;
    }
    version += 1;
    const body = JSON.stringify({ success: true, url: req.url, version, data: parsed.data ?? null });
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;

server.listen(Number(process.env.PORT ?? '0'), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`bare server listening on http://127.0.0.1:${port}`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
