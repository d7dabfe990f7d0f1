import type { Effect } from "../core/identity-schema-rules.js";
import { pathText } from "./kratos-config.js";

export type { Effect };

/** A doctor finding before it is given a file and line. */
export interface Problem {
  /** Stable id of the rule, e.g. `global-after-parse`. */
  code: string;
  /** What the judged Kratos release does with it; an error unless `warning`. */
  effect: Effect;
  /**
   * The first Kratos release that accepts what this finding is about: the doctor drops it when
   * judging for that release or a later one.
   */
  acceptedFrom?: string | undefined;
  /** Key path from kratos.yml's root, for the line number; absent outside kratos.yml. */
  at?: readonly (string | number)[] | undefined;
  /** Where in the file: a key path in kratos.yml or a JSON pointer in a schema. */
  path: string;
  message: string;
  /** What to change, naming the key. */
  fix: string;
}

/** A kratos.yml finding: it has a key path. */
export type YamlFinding = Problem & { at: readonly (string | number)[] };

/** A kratos.yml finding at `at`; its path is `at` written out unless given. */
export function finding(f: Omit<YamlFinding, "path"> & { path?: string }): YamlFinding {
  return { ...f, path: f.path ?? pathText(f.at) };
}

/** Errors fail the doctor (exit 1); warnings do not. */
export function severityOf(effect: Effect): "error" | "warning" {
  return effect === "warning" ? "warning" : "error";
}
