import { once } from "node:events";
import { createServer, type Server } from "node:http";

/** What the echo upstream answers: the request exactly as it arrived. */
export interface Echo {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body, base64: bytes, not text. */
  body: string;
}

/**
 * An upstream for the Worker's gateway tests (workerd and wrangler dev cannot share memory with
 * the test): it answers each request with the request itself as JSON, and two cookies, so the
 * test reads what the gateway forwarded from what the gateway returns. `/__hang…` never answers.
 */
export async function startEchoUpstream(): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.url?.startsWith("/__hang")) return;
      // A failed login, as Kratos answers it, for the shield's tests: the password "wrong".
      const text = Buffer.concat(chunks).toString();
      const flow = (id: string, messages: unknown[]) =>
        JSON.stringify({ id, type: "api", state: "choose_method", ui: { action: "", method: "POST", nodes: [], messages } });
      if (req.url?.startsWith("/self-service/login/flows?id=")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(flow(req.url.slice(req.url.indexOf("=") + 1), []));
        return;
      }
      if (req.method === "POST" && req.url?.startsWith("/self-service/login?") && text.includes('"password":"wrong"')) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(flow("f1", [{ id: 4000006, type: "error", text: "The provided credentials are invalid." }]));
        return;
      }
      const echo: Echo = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("base64"),
      };
      res.writeHead(200, {
        "content-type": "application/json",
        "set-cookie": ["csrf_token_echo=one; Path=/; HttpOnly", "ory_kratos_session=two; Path=/; HttpOnly"],
      });
      res.end(JSON.stringify(echo));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no upstream address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    server,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
