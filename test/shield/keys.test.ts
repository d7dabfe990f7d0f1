import { describe, expect, it } from "vitest";
import { clientKey, createPseudonyms, isPrivateAddress } from "../../src/gateway/shield/keys.js";

describe("shield: who a client is", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::99", "2001:db8:1:2::/64"],
    ["2001:DB8:1:2:ffff::1", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::ffff:198.51.100.4", "198.51.100.4"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
  ])("%s counts as %s (an IPv6 client by its /64)", (address, key) => {
    expect(clientKey(address)).toBe(key);
  });

  it("two hosts of one /64 are one client; of two /64s, two", () => {
    expect(clientKey("2001:db8:aa:bb::1")).toBe(clientKey("2001:db8:aa:bb:ffff:ffff:ffff:ffff"));
    expect(clientKey("2001:db8:aa:bb::1")).not.toBe(clientKey("2001:db8:aa:bc::1"));
  });

  it.each([undefined, "", "not an address", "1:2:3:4:5:6:7:8:9", "1::2::3"])("%s is no client", (address) => {
    expect(clientKey(address)).toBeUndefined();
  });

  it.each([
    ["127.0.0.1", true],
    ["10.1.2.3", true],
    ["172.16.0.1", true],
    ["172.31.255.255", true],
    ["172.32.0.1", false],
    ["192.168.1.1", true],
    ["100.64.0.1", true],
    ["169.254.1.1", true],
    ["::1", true],
    ["fd00::1", true],
    ["fe80::1", true],
    ["::ffff:10.0.0.1", true],
    ["203.0.113.7", false],
    ["2001:db8::1", false],
  ])("%s is private: %s", (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });
});

describe("shield: pseudonyms", () => {
  it("are keyed: the same value, kind and secret give the same pseudonym; another secret or kind another", async () => {
    const a = createPseudonyms("secret-number-one-0123");
    const b = createPseudonyms("secret-number-two-0123");
    const id = await a.of("identifier", "+4917612345678");
    expect(id).toMatch(/^[\w-]{22}$/);
    expect(await a.of("identifier", "+4917612345678")).toBe(id);
    expect(await b.of("identifier", "+4917612345678")).not.toBe(id);
    expect(await a.of("number", "+4917612345678")).not.toBe(id);
    expect(id).not.toContain("4917612345678");
  });

  it("Node's HMAC and Web Crypto's agree", async () => {
    const { createHmac } = await import("node:crypto");
    const node = createPseudonyms("secret-number-one-0123", (secret, text) => createHmac("sha256", secret).update(text).digest());
    const web = createPseudonyms("secret-number-one-0123");
    expect(await node.of("client", "203.0.113.7")).toBe(await web.of("client", "203.0.113.7"));
    expect(await node.sign("device:x:1")).toBe(await web.sign("device:x:1"));
  });

  it("refuses a short secret", () => {
    expect(() => createPseudonyms("short")).toThrow(/at least 16/);
  });
});
