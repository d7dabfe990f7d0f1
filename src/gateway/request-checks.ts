import type { Context } from "hono";
import { MAX_BODY_BYTES, readBody } from "../core/body.js";
import { STATUS } from "../core/http-status.js";
import { GATEWAY_MARKER, type HeaderRecord } from "./headers.js";
import { kratosError, kratosRefusal } from "./kratos-error.js";
import type { Refusal } from "./refusals.js";
import { pathAndQuery } from "./request-target.js";
import { pathRefusal } from "./routes.js";

// The gateway's own checks on a request, each made by a factory in the manner of Hono's
// `bodyLimit({ maxSize, onError })`: its options, and `onError` for the answer to a request that
// fails it, by default the gateway's answer in Kratos's error shape. A check answers; the gateway
// logs that answer with the fields the check gives (`Stopped.why`), and the request's timing.

/** A request a check stopped: the answer, and the log fields that say why. */
export interface Stopped<Why = { refusal: Refusal } | { error: string }> {
  response: Response;
  why: Why;
}

/** What `requestRefusal` takes. */
export interface RequestRefusalOptions {
  /** The transport's check of the framing, where it reads the client's bytes itself (Node's). */
  framingRefusal?: ((c: Context) => Refusal | undefined) | undefined;
  /** The answer to a refused request: Kratos's 400 with the refusal as its `reason` by default. */
  onError?: (c: Context, refusal: Refusal) => Response;
}

/**
 * A request Kratos could read differently from the gateway (its framing, its path), refused
 * before any rule, so that rules and the forwarding see the one reading.
 */
export function requestRefusal(options: RequestRefusalOptions = {}): (c: Context) => Stopped<{ refusal: Refusal }> | undefined {
  const { framingRefusal } = options;
  const onError = options.onError ?? ((_c: Context, refusal: Refusal) => kratosRefusal(refusal));
  return (c) => {
    const refusal = framingRefusal?.(c) ?? pathRefusal(pathAndQuery(c.req.url).path);
    return refusal === undefined ? undefined : { response: onError(c, refusal), why: { refusal } };
  };
}

/** What `loopCheck` takes. */
export interface LoopCheckOptions {
  /** The answer to a request that came round again: Kratos's 508 by default. */
  onError?: (c: Context) => Response;
}

/**
 * A request that arrives with the gateway's marker has come round through this gateway again
 * (`GATEWAY_KRATOS_URL` points back at it): answered, not forwarded once more.
 */
export function loopCheck(options: LoopCheckOptions = {}): (c: Context, headers: HeaderRecord) => Stopped | undefined {
  const onError =
    options.onError ??
    (() =>
      kratosError(
        STATUS.loopDetected,
        "This request has already passed through the kratos-hooks gateway: GATEWAY_KRATOS_URL points back at it.",
      ));
  return (c, headers) => (headers[GATEWAY_MARKER] === undefined ? undefined : { response: onError(c), why: { error: "loop" } });
}

/** What `bodyLimit` takes. */
export interface BodyLimitOptions {
  /** The most bytes of a body the gateway reads: `MAX_BODY_BYTES` (1 MiB, as the hooks) by default. */
  maxSize?: number;
  /** The answer to a longer body: Kratos's 413 by default. */
  onError?: (c: Context) => Response;
}

/** Reads a submission's body whole, up to `maxSize` bytes; a longer one is answered, not forwarded. */
export function bodyLimit(options: BodyLimitOptions = {}): (c: Context) => Promise<{ bytes: Uint8Array } | Stopped> {
  const maxSize = options.maxSize ?? MAX_BODY_BYTES;
  const onError = options.onError ?? (() => kratosError(STATUS.payloadTooLarge, `The request body exceeds ${maxSize} bytes.`));
  return async (c) => {
    const read = await readBody(c.req.raw, maxSize);
    return read.ok ? { bytes: read.bytes } : { response: onError(c), why: { error: "payload_too_large" } };
  };
}
