import { describe, expect, it } from "vitest";
import {
  appendKeys,
  escapeToken,
  fieldPathOf,
  GLOBAL_POINTER,
  pointerKeys,
  traitPointer,
  unescapeToken,
} from "../../src/core/json-pointer.js";

describe("escapeToken / unescapeToken (RFC 6901 §3, §4)", () => {
  it.each([
    ["a", "a"],
    ["a/b", "a~1b"],
    ["a~b", "a~0b"],
    // `~` is escaped first: a key that reads like an escape stays a key.
    ["~1", "~01"],
    ["~0", "~00"],
    ["/~", "~1~0"],
    ["ory.sh/kratos", "ory.sh~1kratos"],
    ["", ""],
  ])("%j ↔ %j", (key, token) => {
    expect(escapeToken(key)).toBe(token);
    expect(unescapeToken(token)).toBe(key);
  });

  it("reads `~01` as `~1`, never as `/`", () => {
    expect(unescapeToken("~01")).toBe("~1");
  });
});

describe("appendKeys / pointerKeys", () => {
  it.each([
    [[], ""],
    [["a"], "/a"],
    [["a", "b/c", "d~e"], "/a/b~1c/d~0e"],
    [["a.b"], "/a.b"],
    [["", "x"], "//x"],
  ])("%j ↔ %j", (keys, pointer) => {
    expect(appendKeys("", ...keys)).toBe(pointer);
    expect(pointerKeys(pointer)).toEqual(keys);
    expect(pointerKeys(`#${pointer}`)).toEqual(keys);
  });

  it("appends to a pointer", () => {
    expect(appendKeys("#/properties", "ory.sh/kratos", "verification")).toBe("#/properties/ory.sh~1kratos/verification");
  });

  it("reads the whole document as no keys, and the global pointer as the empty key", () => {
    expect(pointerKeys("")).toEqual([]);
    expect(pointerKeys("#")).toEqual([]);
    expect(pointerKeys(GLOBAL_POINTER)).toEqual([""]);
  });

  it.each(["traits/email", "#traits", "x"])("refuses %j: no JSON pointer", (pointer) => {
    expect(() => pointerKeys(pointer)).toThrow(/not a JSON pointer/);
  });
});

describe("traitPointer / fieldPathOf", () => {
  it.each([
    ["phone", "#/traits/phone"],
    ["address.mobile", "#/traits/address/mobile"],
    ["a/b.c~d", "#/traits/a~1b/c~0d"],
    ["~1", "#/traits/~01"],
  ])("%j ↔ %j", (path, pointer) => {
    expect(traitPointer(path)).toBe(pointer);
    expect(fieldPathOf(pointer)).toBe(`traits.${path}`);
  });

  it("a dot always separates keys: a pointer's key with a dot reads back as two", () => {
    expect(fieldPathOf("#/traits/a.b")).toBe("traits.a.b");
    expect(traitPointer("a.b")).toBe("#/traits/a/b");
  });

  it.each([
    ["#/traits", "traits"],
    ["#/metadata_public/x", "metadata_public.x"],
  ])("%j → %j", (pointer, path) => {
    expect(fieldPathOf(pointer)).toBe(path);
  });

  it.each([GLOBAL_POINTER, "", "#", "/traits/phone", "traits/phone"])("%j is the whole form: null", (pointer) => {
    expect(fieldPathOf(pointer)).toBeNull();
  });
});
