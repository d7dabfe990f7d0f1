// The "limit": the essential work (essential.mjs) on a bare node:http server, as tight as we can.
import { createServer } from "node:http";
import { handle } from "./essential.mjs";

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    let body;
    try {
      body = JSON.parse(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const answer = handle(req.url.slice(7), req.headers.authorization, body);
    if (answer.body === null) res.writeHead(answer.status).end();
    else res.writeHead(answer.status, JSON_HEADERS).end(answer.body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("listening"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
