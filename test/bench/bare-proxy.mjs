// The limit for the gateway: a bare node:http reverse proxy doing the same forwarding with no
// framework and no rewriting. It takes the gateway's own header rules from the build (hop-by-hop
// headers out, X-Forwarded-* and True-Client-IP from the connection), keeps a keep-alive agent
// to the upstream and does not follow redirects; a self-service submit's body is read whole and
// sent with its length (as the gateway must, to rewrite it), other bodies are piped.
// PORT and UPSTREAM (http://host:port) from the environment; run after `npm run build`.
import { Agent, createServer, request } from "node:http";
import { toClientHeaders, toUpstreamHeaders } from "../../dist/src/gateway/headers.js";

const upstream = new URL(process.env.UPSTREAM);
const agent = new Agent({ keepAlive: true });

const server = createServer((req, res) => {
  const address = req.socket.remoteAddress?.replace(/^::ffff:/, "");
  const headers = toUpstreamHeaders(req.headers, { address, proto: "http", host: req.headers.host }, false);
  const out = request({ agent, host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
    res.writeHead(answer.statusCode, toClientHeaders(answer.headers));
    answer.pipe(res);
  });
  out.on("error", () => {
    if (!res.headersSent) res.writeHead(502).end();
  });
  if (req.method === "POST" && req.url.startsWith("/self-service/")) {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      out.setHeader("content-length", body.length);
      out.end(body);
    });
  } else req.pipe(out);
});
server.keepAliveTimeout = 95_000;
server.listen(Number(process.env.PORT), "127.0.0.1");
