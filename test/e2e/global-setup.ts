import type { TestProject } from "vitest/node";
import { kratosBinaryVersion, resolveGoJsonnet, resolveKratos } from "../../src/cli/kratos-binary.js";

/**
 * Finds or builds Kratos and go-jsonnet once per run (KRATOS_BIN / GO_JSONNET_BIN, else the
 * cache, else `go build`), and asks the binary which release it is (`kratos version`): the tests
 * whose expectations differ between releases read it with `inject("kratosVersion")`.
 */
export default function setup(project: TestProject): void {
  const binary = resolveKratos();
  const version = kratosBinaryVersion(binary.path);
  if (version === undefined) throw new Error(`${binary.path} does not say which Kratos it is (kratos version)`);
  process.stderr.write(`e2e: Kratos ${version} from ${binary.source}: ${binary.path}\n`);
  project.provide("kratosBin", binary.path);
  project.provide("kratosVersion", version);
  project.provide("goJsonnetBin", resolveGoJsonnet());
}
