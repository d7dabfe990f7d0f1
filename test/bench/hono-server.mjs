// The framework floor: the same essential work (essential.mjs) inside Hono on @hono/node-server,
// the stack kratos-hooks runs on. The gap from here to kratos-hooks is our own code; the gap
// from the bare node:http limit to here is the framework's.
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { handle } from "./essential.mjs";

const app = new Hono();
app.post("/hooks/:hook", async (c) => {
  const answer = handle(c.req.param("hook"), c.req.header("authorization"), await c.req.json());
  if (answer.body === null) return c.body(null, answer.status);
  return c.body(answer.body, answer.status, { "content-type": "application/json; charset=utf-8" });
});
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: "127.0.0.1" }, () => console.log("listening"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
