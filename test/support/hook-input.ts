import { parseConfig } from "../../src/config/parse.js";
import type { Config } from "../../src/config/schema.js";
import type { HookInput, JsonObject } from "../../src/core/decision.js";
import { type HookId, isBeforeHook } from "../../src/core/hooks.js";

/** A policy's input, built directly (the payload parser has its own tests). */
export function hookInput(
  hook: HookId,
  given: {
    traits?: JsonObject;
    schemaId?: string;
    metadataPublic?: JsonObject | null;
    headers?: Record<string, string>;
    transientPayload?: JsonObject;
    requestedSchemaId?: string;
  } = {},
): HookInput {
  return {
    hook,
    transientPayload: given.transientPayload,
    requestedSchemaId: given.requestedSchemaId,
    headers: new Map(Object.entries(given.headers ?? {}).map(([name, value]) => [name.toLowerCase(), [value]])),
    identity: isBeforeHook(hook)
      ? undefined
      : { schemaId: given.schemaId ?? "default", traits: given.traits ?? {}, metadataPublic: given.metadataPublic ?? null },
  };
}

/** A validated config from a raw one, as the server would read it. */
export function config(raw: Record<string, unknown> = {}): Config {
  return parseConfig(raw, "test");
}
