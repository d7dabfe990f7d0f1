import type { TestProject } from "vitest/node";
import { resolveKratos } from "./kratos-binary.js";

/** Finds or builds Kratos once per run (KRATOS_BIN, else the cache, else `go build`). */
export default function setup(project: TestProject): void {
  const binary = resolveKratos();
  process.stderr.write(`e2e: Kratos from ${binary.source}: ${binary.path}\n`);
  project.provide("kratosBin", binary.path);
}
