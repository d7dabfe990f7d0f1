// What a user would write instead: the same essential work (essential.mjs) on Express with
// express.json(), the most common shape of Kratos community hook servers.
import express from "express";
import { handle } from "./essential.mjs";

const app = express();
app.use(express.json({ limit: "1mb" }));
app.post("/hooks/:hook", (req, res) => {
  const answer = handle(req.params.hook, req.headers.authorization, req.body);
  if (answer.body === null) res.sendStatus(answer.status);
  else res.status(answer.status).type("application/json; charset=utf-8").send(answer.body);
});
const server = app.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("listening"));
server.keepAliveTimeout = 65_000;
process.on("SIGTERM", () => server.close(() => process.exit(0)));
