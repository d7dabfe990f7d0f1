/**
 * `npm run docs:config`: regenerates the key table of docs/configuration.md from the config
 * schema (test/support/config-reference.ts), then formats the page as `npm run lint` expects.
 * test/docs.test.ts fails until this has run after a change to the schema in src/config/.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { replaceConfigReference, toConfigReference } from "./config-reference.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const page = "docs/configuration.md";
const file = `${root}${page}`;
writeFileSync(file, replaceConfigReference(readFileSync(file, "utf8"), toConfigReference()));
const biome = spawnSync("npx", ["biome", "format", "--write", page], { cwd: root, stdio: "inherit" });
process.exit(biome.status ?? 1);
