import { execFileSync } from "node:child_process";

/** The process tests run what `npm start` runs: the compiled server. Build it once. */
export default function setup(): void {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
}
