import { readFileSync } from "node:fs";
import type { JsonObject } from "../core/decision.js";
import { factsOf, type HookId } from "../core/hooks.js";
import { isJsonObject } from "../core/json.js";
import { canonicalHeaderKey } from "../kratos/header-allowlist.js";
import { completeWebHookCtx } from "../kratos/web-hook-ctx.js";
import type { KratosConfig } from "./kratos-config.js";
import { forwardedHeaders } from "./kratos-headers.js";
import { featuresOf, type JudgedKratos } from "./kratos-version.js";
import { exampleFile, examplesOf } from "./try-examples.js";
import { displayPath, UsageError } from "./usage.js";

/** Where `try` takes the ctx from: a shipped example (`--example`), else a file. */
export interface CtxSource {
  example?: string | undefined;
  ctxFile?: string | undefined;
}

/** The ctx read, the name it is shown under, and a note for each change `try` made to it. */
export interface ReadCtx {
  ctx: JsonObject;
  name: string;
  notes: string[];
}

function ctxFileOf(source: CtxSource, hook: HookId): string {
  if (source.example !== undefined) return exampleFile(hook, source.example);
  if (source.ctxFile !== undefined) return source.ctxFile;
  throw new UsageError(`give a ctx file or --example <scenario> (for ${hook}: ${examplesOf(hook).join(", ")})`);
}

/** The file's JSON; a file that cannot be read or is not JSON is a usage error that says why. */
function readJSON(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read the ctx file ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the ctx file ${file} is not JSON: ${(error as Error).message}`);
  }
}

/**
 * The ctx to render, from an example or a file: unwrapped when a capture wraps it as
 * `{"ctx": …}`, and with what Kratos always sends filled in (`completeWebHookCtx`), each said in
 * a note.
 */
export function readCtx(source: CtxSource, hook: HookId): ReadCtx {
  const file = ctxFileOf(source, hook);
  let ctx = readJSON(file);
  const notes: string[] = [];
  // A ctx copied from a log line or a capture is often wrapped as {"ctx": {…}}.
  if (isJsonObject(ctx) && isJsonObject(ctx.ctx) && !("identity" in ctx) && !("flow" in ctx)) {
    ctx = ctx.ctx;
    notes.push(`the ctx file wraps the ctx as {"ctx": …}; try unwrapped it (Kratos's template gets the inner object as ctx)`);
  }
  if (!isJsonObject(ctx))
    throw new UsageError(
      `the ctx file ${file} must hold a JSON object (Kratos's ctx), found ${Array.isArray(ctx) ? "an array" : typeof ctx}`,
    );
  if (factsOf(hook).hasIdentity && !isJsonObject(ctx.identity)) {
    throw new UsageError(`the ctx file ${file} has no "identity" object, which Kratos always sends to ${hook}`);
  }
  const filled = completeWebHookCtx(ctx, hook);
  if (filled.length > 0) {
    notes.push(
      `the ctx file lacks fields Kratos always sends; try filled them in: ${filled.join(", ")}. A failure is not Kratos's when only these differ`,
    );
  }
  return { ctx, name: displayPath(file), notes };
}

/**
 * What the judged release leaves out of the ctx it builds, taken out of this one so that the
 * verdict is the one that release acts on; returns a note for each change.
 * - `ctx.request_headers`: only the names Kratos forwards (17 fixed before v25.4, else
 *   `clients.web_hook.header_allowlist`); a ctx Kratos built already holds no others.
 * - `ctx.flow.transient_payload` on settings hooks: v26.2.0 does not pass it (measured: the same
 *   submission gives `{"phone_region":"DE"}` on v1.3.1 and nothing on v26.2.0).
 */
export function toJudgedCtx(ctx: JsonObject, hook: HookId, kratos: KratosConfig, judged: JudgedKratos): string[] {
  const notes: string[] = [];
  const features = featuresOf(judged);
  const measured = judged.version === judged.judgedAs ? "" : ` (measured on ${judged.judgedAs}; ${judged.version} is judged as it)`;
  const flow = ctx.flow as JsonObject;
  if (factsOf(hook).flow === "settings" && !features.settingsTransientPayload && "transient_payload" in flow) {
    delete flow.transient_payload;
    notes.push(
      `Kratos ${judged.version} does not pass flow.transient_payload to settings hooks${measured}: try dropped it from the ctx, as Kratos would`,
    );
  }
  if (isJsonObject(ctx.request_headers)) {
    const forwarded = forwardedHeaders(kratos.data, features);
    const dropped = Object.keys(ctx.request_headers).filter((name) => !forwarded.names.has(canonicalHeaderKey(name)));
    for (const name of dropped) delete ctx.request_headers[name];
    if (dropped.length > 0) {
      const list =
        forwarded.source === "fixed"
          ? "its 17 fixed request headers (before v25.4)"
          : `the headers in clients.web_hook.header_allowlist${forwarded.source === "default" ? " (not set: its 17 defaults)" : ""}`;
      notes.push(
        `Kratos ${judged.version} passes web_hooks only ${list}: try dropped ${dropped.join(", ")} from request_headers, as Kratos would`,
      );
    }
  }
  return notes;
}

/** The identity in the ctx, and the names of the flow's form inputs, for the verdict. */
export function verdictInputsOf(ctx: JsonObject): { identity: JsonObject | undefined; formNodes: string[] | undefined } {
  const identity = isJsonObject(ctx.identity) ? ctx.identity : undefined;
  const flow = isJsonObject(ctx.flow) ? ctx.flow : {};
  const ui = isJsonObject(flow.ui) ? flow.ui : {};
  const formNodes = Array.isArray(ui.nodes)
    ? ui.nodes
        .map((n) => (isJsonObject(n) && isJsonObject(n.attributes) ? n.attributes.name : undefined))
        .filter((n): n is string => typeof n === "string")
    : undefined;
  return { identity, formNodes };
}
