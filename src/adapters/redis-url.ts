import type { RedisOptions } from "ioredis";
import { ConfigError } from "../config/parse.js";

/** `redis://user:secret@host:6379/2` → `redis://host:6379/2`: the URL to log, without its credentials. */
export function toRedisTarget(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`;
}

/** Reads `redis://[user:password@]host[:port][/db]` (or `rediss://`, TLS) into the client's options. */
export function parseRedisUrl(raw: string): { url: URL; options: RedisOptions } {
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  // The messages never repeat the URL: it may hold a password.
  if (url === undefined || (url.protocol !== "redis:" && url.protocol !== "rediss:") || url.hostname === "") {
    throw new ConfigError("The shield's Redis URL must look like redis://[user:password@]host[:port][/db] (or rediss:// for TLS).");
  }
  const db = url.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db)) throw new ConfigError(`The shield's Redis URL names database "${db}": expected a number, like /0.`);
  if (url.search !== "") throw new ConfigError("The shield's Redis URL has a query string: options are not read from it.");
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port === "" ? 6379 : Number(url.port),
    db: db === "" ? 0 : Number(db),
  };
  if (url.username !== "") options.username = decodeURIComponent(url.username);
  if (url.password !== "") options.password = decodeURIComponent(url.password);
  if (url.protocol === "rediss:") options.tls = { servername: options.host };
  return { url, options };
}
