// A test-only hook handler that answers the ways Kratos punishes, chosen by the email's local
// part, so the suite can compare `kratos-hooks try` with what real Kratos does:
//   empty200@…     200 with an empty body
//   messages503@…  503 with a messages body (retried, never shown)
//   junkpointer@…  422 with instance_ptr "#" (Kratos adds a node named "#")
//   anything else  204
import { createServer } from "node:http";

const message = (instance_ptr) => ({
  messages: [{ instance_ptr, messages: [{ id: 9000001, text: "Refused by the test handler.", type: "error" }] }],
});

const server = createServer((req, res) => {
  let raw = "";
  req.on("data", (chunk) => {
    raw += chunk;
  });
  req.on("end", () => {
    if (req.url === "/health") return res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    let email = "";
    try {
      email = String(JSON.parse(raw)?.identity?.traits?.email ?? "");
    } catch {}
    const mode = email.split("@")[0];
    if (mode === "empty200") return res.writeHead(200).end();
    if (mode === "messages503")
      return res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify(message("#/traits/email")));
    if (mode === "junkpointer") return res.writeHead(422, { "content-type": "application/json" }).end(JSON.stringify(message("#")));
    res.writeHead(204).end();
  });
});
server.listen(Number(process.env.PORT), process.env.HOST ?? "127.0.0.1");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
