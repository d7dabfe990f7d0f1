// Stands in for Kratos's public API where the gateway's forwarding alone is measured: every
// request gets the same 200 with a 700-byte JSON session and two cookies, as `whoami` answers.
// PORT from the environment; request bodies are read and dropped.
import { createServer } from "node:http";

const session = {
  id: "a5b5e1f2-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
  active: true,
  expires_at: "2026-12-01T12:00:00.000000Z",
  authenticated_at: "2026-11-30T12:00:00.000000Z",
  authenticator_assurance_level: "aal1",
  identity: {
    id: "9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f",
    schema_id: "phone",
    schema_url: "http://127.0.0.1:4455/schemas/cGhvbmU",
    state: "active",
    traits: { phone: "+4917612345678" },
    metadata_public: null,
  },
};
const padding = 700 - JSON.stringify({ ...session, pad: "" }).length;
const BODY = Buffer.from(JSON.stringify({ ...session, pad: "x".repeat(Math.max(0, padding)) }));
const HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "content-length": String(BODY.length),
  "cache-control": "private, no-cache, no-store, must-revalidate",
  "set-cookie": [
    "ory_kratos_session=MTc2NDUwMDAwMHxEdi1CQkFFQ180SUFBUkFCRUFBQVJfLUNBQUVH; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax",
    "csrf_token_806060ca5bf70dff3caa0e5c860002aade9d470a5a4dce73bcfa7ba10778f481=Ar5sLuW8nXmCHq2v0M3zQ8Yc1d9gTfKa4JbE7wP0hVs=; Path=/; HttpOnly; SameSite=Lax",
  ],
};

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, HEADERS);
    res.end(BODY);
  });
});
server.keepAliveTimeout = 95_000;
server.listen(Number(process.env.PORT), "127.0.0.1");
