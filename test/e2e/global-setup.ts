import type { TestProject } from "vitest/node";
import { resolveGoJsonnet, resolveKratos } from "../../src/cli/kratos-binary.js";

/** Finds or builds Kratos and go-jsonnet once per run (KRATOS_BIN / GO_JSONNET_BIN, else the cache, else `go build`). */
export default function setup(project: TestProject): void {
  const binary = resolveKratos();
  process.stderr.write(`e2e: Kratos from ${binary.source}: ${binary.path}\n`);
  project.provide("kratosBin", binary.path);
  project.provide("goJsonnetBin", resolveGoJsonnet());
}
