import { describe, expect, it } from "vitest";
import { isStatus } from "../../src/core/http-status.js";
import { type AstNode, type SourceFile, sourceFiles, textOf, walk } from "../support/source-ast.js";

// Facts of one line each, written once in src/ (docs/design.md, "One home for each rule"). A
// duplicate finder cannot see them: it matches runs of six lines or more. Each test lists where
// the fact is written, so a second copy (a new list, a new regex, a pasted key) fails with the
// place it was pasted into; code that needs the fact imports it from its home.

const files = sourceFiles();

interface Place {
  readonly file: SourceFile;
  readonly node: AstNode;
  readonly parent: AstNode | undefined;
}

function places(match: (place: Place) => boolean): string[] {
  const found: string[] = [];
  for (const file of files) {
    walk(file.program, (node, parent) => {
      if (match({ file, node, parent })) found.push(`${file.path}:${node.loc.start.line}`);
    });
  }
  return found;
}

const stringValue = (node: AstNode): string | undefined => {
  if (node.type === "StringLiteral") return node.value as string;
  if (node.type === "TemplateLiteral") return (node.quasis as { value: { cooked: string } }[]).map((q) => q.value.cooked).join("\u0000");
  return undefined;
};

const regexPattern = (node: AstNode): string | undefined => (node.type === "RegExpLiteral" ? (node.pattern as string) : undefined);

const FLOWS = ["registration", "login", "settings", "verification", "recovery"];

/** The flow names a node enumerates: an array or union of strings, an object's keys, a regex's alternatives. */
function flowsListed({ file, node, parent }: Place): string[] {
  let names: unknown[] = [];
  if (node.type === "ArrayExpression") names = (node.elements as AstNode[]).map((e) => e && stringValue(e));
  else if (node.type === "TSUnionType")
    names = (node.types as AstNode[]).map((t) => (t.type === "TSLiteralType" ? stringValue(t.literal as AstNode) : undefined));
  else if (node.type === "ObjectExpression" || node.type === "TSTypeLiteral") {
    // An object typed by a flow type (`Record<SelfServiceFlow, …>`) is checked by the compiler against its home.
    const typed = parent?.type === "VariableDeclarator" && /Flow\b/.test(textOf(file, parent));
    if (!typed)
      names = ((node.properties ?? node.members) as AstNode[]).map(
        (p) => (p.key as { name?: string; value?: string } | undefined)?.name ?? (p.key as { value?: string } | undefined)?.value,
      );
  } else {
    const text = regexPattern(node) ?? stringValue(node);
    if (text !== undefined) names = FLOWS.filter((flow) => new RegExp(`(^|[|(])${flow}([|)]|$)`).test(text));
  }
  return [...new Set(names.filter((n): n is string => typeof n === "string" && FLOWS.includes(n)))];
}

describe("one home for each one-line fact (docs/design.md)", () => {
  it("Kratos's self-service flows are listed once; the hooks' flows and the shield's forms are their own facts, listed once each", () => {
    const lists = places((place) => flowsListed(place).length >= 3);
    expect(lists).toEqual([
      "src/core/hooks.ts:2",
      "src/core/shield-flows.ts:10",
      "src/kratos/self-service.ts:7",
      // The flows with per-method after lists, a fact of Kratos of its own.
      "src/kratos/self-service.ts:15",
    ]);
  });

  it("the Authorization rule (Bearer or Basic, any case) is one regex, in src/http/auth.ts", () => {
    // The log masker (src/core/redact.ts) finds such credentials inside any text, a rule of its own:
    // it must catch more than a header the server accepts, never less.
    const rule = places(({ node }) => /bearer\|basic|basic\|bearer/i.test(regexPattern(node) ?? ""));
    expect(rule.map((p) => p.replace(/:\d+$/, ""))).toEqual(["src/core/redact.ts", "src/http/auth.ts"]);
  });

  it("a key written with its scheme (`Bearer abc…`) is recognised by one regex, in src/config/env.ts", () => {
    const rule = places(({ node }) => /^\^bearer/i.test(regexPattern(node) ?? ""));
    expect(rule.map((p) => p.replace(/:\d+$/, ""))).toEqual(["src/config/env.ts"]);
  });

  it("the development key is written once, in src/config/env.ts", () => {
    const written = places(({ node }) => (stringValue(node) ?? "").includes("dev-only-insecure-key"));
    expect(written.map((p) => p.replace(/:\d+$/, ""))).toEqual(["src/config/env.ts"]);
  });

  it("JSON-pointer escaping (~0, ~1) is written only in src/core/json-pointer.ts", () => {
    // `~0-9` in a character class (the HTTP token grammar) is not a pointer escape.
    const escaping = places(({ node }) => /~[01](?!-)|~\[01\]/.test(regexPattern(node) ?? stringValue(node) ?? ""));
    expect(new Set(escaping.map((p) => p.replace(/:\d+$/, "")))).toEqual(new Set(["src/core/json-pointer.ts"]));
  });

  it("the HTTP token grammar (a header name) is one regex", () => {
    const token = places(({ node }) => (regexPattern(node) ?? "").includes("!#$%&'*+.^_`|~0-9A-Za-z-"));
    expect(token).toHaveLength(1);
  });

  it("HTTP statuses are named (STATUS in src/core/http-status.ts), never written as numbers where a status is meant", () => {
    // A number that is a status, where the expression around it speaks of a status (`status === 401`,
    // `{ status: 422 }`, a list of statuses): the one home is STATUS.
    const written = places(({ file, node, parent }) => {
      if (file.path === "src/core/http-status.ts" || node.type !== "NumericLiteral" || !isStatus(node.value as number)) return false;
      return parent !== undefined && /status|code/i.test(textOf(file, parent));
    });
    expect(written).toEqual([]);
  });
});
