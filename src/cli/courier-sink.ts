import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { STATUS } from "../core/http-status.js";
import { isJsonObject } from "../core/json.js";

/** A message Kratos's courier delivered over HTTP (kratos/courier/*.jsonnet shape the body). */
export interface CourierMessage {
  channel: "sms" | "email";
  to: string;
  body: string;
  subject?: string;
  template_type: string;
}

/** A ctx Kratos sent to a capture hook (`POST /ctx/<hook>`, template `function(ctx) ctx`). */
export interface CapturedCtx {
  hook: string;
  ctx: Record<string, unknown>;
}

export interface SinkOptions {
  /** Default 0: any free port. `kratos-hooks dev` uses its sink port (dev-stack.ts), where kratos.yml's courier points. */
  port?: number;
  host?: string;
  /** Called with each message as it arrives (`kratos-hooks dev` prints it). */
  onMessage?: (message: CourierMessage) => void;
}

/** A body that is a JSON object, or undefined: the sink answers anything else 400 and goes on. */
function jsonBody(raw: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(raw);
    return isJsonObject(parsed) ? parsed : undefined;
  } catch (error) {
    // JSON.parse refuses a body that is not JSON with a SyntaxError; anything else is a bug.
    if (!(error instanceof SyntaxError)) throw error;
    return undefined;
  }
}

/**
 * The HTTP endpoint kratos.yml points the courier at (emails to /email, SMS to /sms), so
 * `kratos-hooks dev` can print and the e2e suite read the codes Kratos sends. It also records
 * whole ctx documents posted to /ctx/<hook> by the capture hooks the e2e suite inserts
 * (`startStack({ captureCtx: true })`), and answers them 204.
 */
export class CourierSink {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly messages: readonly CourierMessage[],
    readonly ctxs: readonly CapturedCtx[],
  ) {}

  /** The last ctx Kratos built for `hook`. */
  lastCtx(hook: string): Record<string, unknown> {
    const found = this.ctxs.findLast((c) => c.hook === hook);
    if (found === undefined)
      throw new Error(`Kratos sent no ctx for ${hook} (captured: ${this.ctxs.map((c) => c.hook).join(", ") || "none"})`);
    return found.ctx;
  }

  static async start(options: SinkOptions = {}): Promise<CourierSink> {
    const messages: CourierMessage[] = [];
    const ctxs: CapturedCtx[] = [];
    const server = createServer((req, res) => {
      let raw = "";
      req.setEncoding("utf8");
      req.on("data", (chunk) => {
        raw += chunk;
      });
      req.on("end", () => {
        if (req.url?.startsWith("/ctx/")) {
          const ctx = jsonBody(raw);
          if (ctx === undefined) {
            res.writeHead(STATUS.badRequest).end();
            return;
          }
          ctxs.push({ hook: req.url.slice("/ctx/".length), ctx });
          res.writeHead(STATUS.noContent).end();
          return;
        }
        const channel = req.url === "/sms" ? "sms" : req.url === "/email" ? "email" : undefined;
        if (channel === undefined) {
          res.writeHead(STATUS.notFound).end();
          return;
        }
        const body = jsonBody(raw);
        if (body === undefined) {
          res.writeHead(STATUS.badRequest).end();
          return;
        }
        const message: CourierMessage = { channel, ...(body as Omit<CourierMessage, "channel">) };
        messages.push(message);
        options.onMessage?.(message);
        res.writeHead(STATUS.ok).end();
      });
    });
    const host = options.host ?? "127.0.0.1";
    server.listen(options.port ?? 0, host);
    await Promise.race([
      once(server, "listening"),
      once(server, "error").then(([error]) => {
        throw error;
      }),
    ]);
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no sink address");
    return new CourierSink(server, `http://${host}:${address.port}`, messages, ctxs);
  }

  /** Waits for the next message to `to` of the given template, delivered after `since` messages. */
  async waitFor(to: string, templateType: string, since = 0, timeoutMs = 15_000): Promise<CourierMessage> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.messages.slice(since).find((m) => m.to === to && m.template_type === templateType);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seen = this.messages.map((m) => `${m.channel} ${m.template_type} → ${m.to}`).join("; ") || "none";
    throw new Error(`no ${templateType} message to ${to} within ${timeoutMs} ms (seen: ${seen})`);
  }

  async close(): Promise<void> {
    this.server.close();
    this.server.closeAllConnections();
    await once(this.server, "close");
  }
}

/** The six-digit code in a Kratos code message, if it has one. */
export function findCode(message: CourierMessage): string | undefined {
  return /\b(\d{6})\b/.exec(message.body)?.[1];
}

/** The six-digit code in a Kratos code message. */
export function codeIn(message: CourierMessage): string {
  const code = findCode(message);
  if (code === undefined) throw new Error(`no code in ${message.template_type} message`);
  return code;
}

/**
 * One terminal line per message: `SMS to +4917612345678 (login_code_valid): 123456`, the code
 * in bold green when `color`; a message without a code shows its body instead.
 */
export function formatMessage(message: CourierMessage, color = false): string {
  const what = message.channel === "sms" ? "SMS" : "Email";
  const subject = message.subject ? ` "${message.subject}"` : "";
  const code = findCode(message);
  const shown = code === undefined ? message.body.replace(/\s+/g, " ").trim() : color ? `\x1b[1;32m${code}\x1b[0m` : code;
  return `${what} to ${message.to}${subject} (${message.template_type}): ${shown}`;
}
