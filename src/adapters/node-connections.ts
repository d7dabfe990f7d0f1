import type { Server } from "node:http";
import type { Socket } from "node:net";

/** The bounds on one listener's open connections (`MAX_CONNECTIONS`, `MAX_CONNECTIONS_PER_ADDRESS`). */
export interface ConnectionLimits {
  /** Open connections on the listener, from every client together. */
  max: number;
  /** Open connections from one client address (an IPv6 client: its /64). */
  perAddress: number;
}

/** Which bound a connection met: `per_address`, `overall`, or `hard` (Node dropped it before it was seen). */
export type ConnectionBound = "per_address" | "overall" | "hard";

/** What the limiter reports, for a metric. */
export interface ConnectionEvents {
  /** An idle connection was closed to make room for a new one. */
  shed(bound: Exclude<ConnectionBound, "hard">): void;
  /** A new connection was refused: answered 503 (or, for `hard`, closed unanswered). */
  refused(bound: ConnectionBound): void;
}

/** What the request handler tells the limiter, and asks it. */
export interface ConnectionLimiter {
  /** Whether the connection was refused: its request is answered 503 and the connection closed. */
  isRefused(socket: Socket): boolean;
  /** A request on `socket` is in flight (the connection is no longer waiting). */
  started(socket: Socket): void;
  /** Its answer is done: the connection waits again, from now. */
  finished(socket: Socket): void;
}

/** How long a refused connection may take to send the request its 503 answers. */
const REFUSED_GRACE_MS = 2_000;

interface Tracked {
  address: string;
  /** Requests in flight. */
  busy: number;
  /** Requests answered so far. */
  served: number;
  /** When it last had nothing in flight (connected, or its last answer finished). */
  waitingSince: number;
}

/** An IPv6 address's first four groups (its /64, what one subscriber gets), or the IPv4 address. */
export function addressKey(address: string | undefined): string {
  if (address === undefined) return "";
  if (address.startsWith("::ffff:") && address.includes(".")) return address.slice(7);
  if (!address.includes(":")) return address;
  const [head = "", tail] = address.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/**
 * Bounds a listener's open connections, per client address and overall, on top of Node's own
 * timeouts (a silent connection is closed at the headers timeout). A new connection over a
 * bound first makes room by closing a connection that is waiting (nothing in flight), of the
 * same address for the per-address bound, of anyone for the overall one: an idle keep-alive
 * connection (its client was served and reconnects at the cost of a handshake) before a silent
 * one (nothing sent yet), the one waiting longest first. Only when every connection has a
 * request in flight is the new one refused: `isRefused` tells the request handler to answer it
 * 503 with `Connection: close`, and it is closed after a short grace if it sends nothing. So a
 * global cap alone cannot lock everyone out: connections that merely sit are given up first.
 * Node's `maxConnections`, a quarter above the cap, closes anything beyond unanswered.
 */
export function limitConnections(server: Server, limits: ConnectionLimits, events: ConnectionEvents): ConnectionLimiter {
  const open = new Map<Socket, Tracked>();
  const byAddress = new Map<string, Set<Socket>>();
  const refused = new WeakSet<Socket>();

  /** The waiting connection to give up among `candidates`: idle keep-alive before silent, longest waiting first. */
  const victim = (candidates: Iterable<Socket>): Socket | undefined => {
    let best: Socket | undefined;
    let bestRank = Number.POSITIVE_INFINITY;
    for (const socket of candidates) {
      const tracked = open.get(socket);
      if (tracked === undefined || tracked.busy > 0) continue;
      // Idle keep-alive ranks below silent; within each, the earlier the better.
      const rank = (tracked.served > 0 ? 0 : 1e15) + tracked.waitingSince;
      if (rank < bestRank) {
        best = socket;
        bestRank = rank;
      }
    }
    return best;
  };
  const forget = (socket: Socket) => {
    const tracked = open.get(socket);
    if (tracked === undefined) return;
    open.delete(socket);
    const mine = byAddress.get(tracked.address);
    mine?.delete(socket);
    if (mine?.size === 0) byAddress.delete(tracked.address);
  };
  const shed = (candidates: Iterable<Socket>, bound: Exclude<ConnectionBound, "hard">): boolean => {
    const socket = victim(candidates);
    if (socket === undefined) return false;
    forget(socket);
    socket.destroy();
    events.shed(bound);
    return true;
  };
  const refuse = (socket: Socket, bound: ConnectionBound) => {
    refused.add(socket);
    events.refused(bound);
    setTimeout(() => socket.destroy(), REFUSED_GRACE_MS).unref();
  };

  server.maxConnections = limits.max + Math.ceil(limits.max / 4);
  server.on("drop", () => events.refused("hard"));
  server.on("connection", (socket: Socket) => {
    const address = addressKey(socket.remoteAddress);
    const mine = byAddress.get(address);
    if (mine !== undefined && mine.size >= limits.perAddress && !shed(mine, "per_address")) return refuse(socket, "per_address");
    if (open.size >= limits.max && !shed(open.keys(), "overall")) return refuse(socket, "overall");
    open.set(socket, { address, busy: 0, served: 0, waitingSince: performance.now() });
    if (mine === undefined) byAddress.set(address, new Set([socket]));
    else mine.add(socket);
    socket.once("close", () => forget(socket));
  });
  return {
    isRefused: (socket) => refused.has(socket),
    started(socket) {
      const tracked = open.get(socket);
      if (tracked !== undefined) tracked.busy += 1;
    },
    finished(socket) {
      const tracked = open.get(socket);
      if (tracked === undefined) return;
      tracked.busy -= 1;
      tracked.served += 1;
      tracked.waitingSince = performance.now();
    },
  };
}
