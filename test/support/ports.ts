import { once } from "node:events";
import { createServer } from "node:net";

/**
 * Ports handed out below Linux's ephemeral range (32768–60999 by default): a port the kernel picks
 * for `listen(0)` comes from that range, which every outgoing connection's local port comes from
 * too, so between choosing it and a child process binding it, any client connection (the
 * gateway's keep-alive pool, a Redis client) could take it ("bind: address already in use").
 */
const FIRST = 20_000;
const LAST = 32_000;
const handedOut = new Set<number>();

async function bindable(port: number): Promise<boolean> {
  const server = createServer();
  server.listen(port, "127.0.0.1");
  const result = await Promise.race([once(server, "listening").then(() => true), once(server, "error").then(() => false)]);
  if (result) {
    server.close();
    await once(server, "close");
  }
  return result;
}

/** A port no one listens on, for a server a test starts as a child process; never the same twice in one process. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = FIRST + Math.floor(Math.random() * (LAST - FIRST));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${FIRST} and ${LAST}`);
}
