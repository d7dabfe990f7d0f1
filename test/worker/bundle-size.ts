// `npm run build:worker` runs wrangler's dry-run bundle into dist/worker, then this: the gzipped
// size of the Worker against its budget, and what each package contributes (minified bytes).
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

/** Full libphonenumber metadata is required (validity, not just length checks); the budget holds with it. */
export const BUDGET_KIB = 250;

const dir = process.argv[2] ?? "dist/worker";
const code = readFileSync(`${dir}/worker.js`);
const gzipKiB = gzipSync(code).length / 1024;
const meta = JSON.parse(readFileSync(`${dir}/meta.json`, "utf8")) as {
  outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
};
const byPackage = new Map<string, number>();
for (const output of Object.values(meta.outputs)) {
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
    const inPackage = path.split("node_modules/").at(-1) ?? path;
    const parts = inPackage.split("/");
    const name = path.includes("node_modules/")
      ? parts[0]?.startsWith("@")
        ? parts.slice(0, 2).join("/")
        : (parts[0] ?? path)
      : "our code";
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
}
console.log(
  `Worker bundle ${dir}/worker.js: ${(code.length / 1024).toFixed(1)} KiB minified, ${gzipKiB.toFixed(1)} KiB gzipped (budget ${BUDGET_KIB} KiB)`,
);
for (const [name, bytes] of [...byPackage].sort((a, b) => b[1] - a[1])) {
  console.log(`  ${(bytes / 1024).toFixed(1).padStart(7)} KiB  ${name}`);
}
if (gzipKiB > BUDGET_KIB) {
  console.error(`Over budget by ${(gzipKiB - BUDGET_KIB).toFixed(1)} KiB`);
  process.exit(1);
}
