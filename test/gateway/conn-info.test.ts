import { type Context, Hono } from "hono";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type ConnInfo, clientAddressOf, peerOf } from "../../src/gateway/conn-info.js";
import { createFetchRuntime, getDefaultConnInfo, getWorkersConnInfo } from "../../src/gateway/fetch-runtime.js";

/** Runs `read` on a Hono context for `request` and returns what it gave. */
async function inContext<T>(request: Request, read: (c: Context) => T): Promise<T> {
  let result: { value: T } | undefined;
  const app = new Hono();
  app.all("*", (c) => {
    result = { value: read(c) };
    return c.body(null, 204);
  });
  await app.request(request);
  if (result === undefined) throw new Error("the reader did not run");
  return result.value;
}

describe("the client's connection on Workers", () => {
  it("is CF-Connecting-IP, the URL's scheme and host, and request.cf.country", async () => {
    const request = new Request("https://auth.example.test/sessions/whoami", { headers: { "cf-connecting-ip": "203.0.113.7" } });
    Object.defineProperty(request, "cf", { value: { country: "FR" } });
    expect(await inContext(request, getWorkersConnInfo)).toEqual({
      remote: { address: "203.0.113.7" },
      proto: "https",
      host: "auth.example.test",
      country: "FR",
    });
  });

  it("knows no address and no country without Cloudflare", async () => {
    const info = await inContext(new Request("http://localhost:8788/"), getWorkersConnInfo);
    expect(info).toMatchObject({ remote: { address: undefined }, proto: "http", host: "localhost:8788", country: undefined });
  });
});

describe("createGateway's default reading of the client", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });
  const forged = () => {
    const request = new Request("https://auth.example.test/self-service/login", { headers: { "cf-connecting-ip": "203.0.113.66" } });
    Object.defineProperty(request, "cf", { value: { country: "FR" } });
    return request;
  };

  it("outside Workers takes no address or country from what a client sent: only the URL's scheme and host", async () => {
    expect(await inContext(forged(), getDefaultConnInfo)).toEqual({ remote: {}, proto: "https", host: "auth.example.test" });
  });

  it("on Workers (navigator.userAgent is Cloudflare-Workers) is Cloudflare's reading", async () => {
    vi.stubGlobal("navigator", { userAgent: "Cloudflare-Workers" });
    expect(await inContext(forged(), getDefaultConnInfo)).toEqual({
      remote: { address: "203.0.113.66" },
      proto: "https",
      host: "auth.example.test",
      country: "FR",
    });
  });
});

describe("clientAddressOf", () => {
  const connInfo = (): ConnInfo => ({ remote: { address: "10.0.0.2" }, proto: "http", host: undefined });
  const sources = { connInfo, transport: createFetchRuntime() };
  const request = () =>
    new Request("http://gateway.test/", {
      headers: [
        ["x-forwarded-for", "198.51.100.1, 203.0.113.7"],
        ["x-forwarded-for", " 192.0.2.4 "],
      ],
    });

  it("is the connection's address unless the proxy in front is trusted", async () => {
    expect(await inContext(request(), (c) => clientAddressOf(c, sources, false))).toBe("10.0.0.2");
  });

  it("behind a trusted proxy, the address it appended last to X-Forwarded-For, else the connection's", async () => {
    expect(await inContext(request(), (c) => clientAddressOf(c, sources, true))).toBe("192.0.2.4");
    expect(await inContext(new Request("http://gateway.test/"), (c) => clientAddressOf(c, sources, true))).toBe("10.0.0.2");
  });
});

describe("peerOf", () => {
  it("gives the forwarding headers the connection's address, scheme and Host", () => {
    const info: ConnInfo = { remote: { address: "192.0.2.9", port: 50000 }, proto: "https", host: "a.test" };
    expect(peerOf(info)).toEqual({ address: "192.0.2.9", proto: "https", host: "a.test" });
  });
});
