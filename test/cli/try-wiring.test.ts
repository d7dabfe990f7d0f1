// try's reading of kratos.yml's identity schemas: what it cannot read is said in a note, never skipped in silence.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { KratosConfig } from "../../src/cli/kratos-config.js";
import { readSchemas } from "../../src/cli/try-wiring.js";

function kratosWith(schemas: unknown): KratosConfig {
  return { file: "kratos.yml", data: { identity: { schemas } }, lineOf: () => undefined };
}

describe("try: readSchemas", () => {
  it("reads each schema, and notes each entry it cannot use", () => {
    const dir = mkdtempSync(join(tmpdir(), "kratos-hooks-try-wiring-"));
    writeFileSync(join(dir, "ok.schema.json"), JSON.stringify({ type: "object", properties: { traits: { type: "object" } } }));
    writeFileSync(join(dir, "list.schema.json"), "[]");
    const read = readSchemas(
      kratosWith([
        { id: "ok", url: "file://./ok.schema.json" },
        { id: "list", url: "file://./list.schema.json" },
        { id: "nourl" },
        { url: "file://./ok.schema.json" },
        "default",
      ]),
      dir,
    );
    expect(read.ids).toEqual(["ok", "list", "nourl"]);
    expect(read.notes).toEqual([
      "identity schema list (file://./list.schema.json): not a JSON object; a save to it is not re-validated",
      "identity schema nourl has no url (Kratos does not start with it); a save to it is not re-validated",
      "identity.schemas[3] has no id (Kratos does not start with it): try skipped it",
      "identity.schemas[4] has no id (Kratos does not start with it): try skipped it",
    ]);
  });

  it("no schemas listed: nothing to read, nothing to note", () => {
    expect(readSchemas(kratosWith(undefined), tmpdir())).toMatchObject({ ids: [], notes: [] });
  });
});
