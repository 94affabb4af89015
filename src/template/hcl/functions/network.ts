/** IP network functions (cidrhost, cidrnetmask, cidrsubnet, cidrsubnets) with go-cidr's arithmetic. */
import { STRING } from "../types.js";
import { Value } from "../value.js";
import { FunctionError, type FunctionTable, int, num, str } from "./support.js";

interface Network {
  /** Address as an integer; `bits` is 32 or 128. */
  addr: bigint;
  bits: number;
  prefix: number;
}

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    // Terraform's ipaddr package keeps Go ≤ 1.16's parser: leading zeros are decimal.
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    v = (v << 8n) | BigInt(Number(p));
  }
  return v;
}

function parseIPv6(s: string): bigint | undefined {
  let tail4: bigint | undefined;
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".")) {
    tail4 = parseIPv4(s.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    s = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const group = (h: string) => (h === "" ? [] : h.split(":"));
  const head = group(halves[0]);
  const tail = halves.length === 2 ? group(halves[1]) : [];
  const total = head.length + tail.length;
  if ((halves.length === 1 && total !== 8) || total > 8 || (halves.length === 2 && total === 8)) return undefined;
  const groups = [...head, ...Array(8 - total).fill("0"), ...tail];
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail4 !== undefined) v = (v & ~0xffffffffn) | tail4;
  return v;
}

function parseCidr(s: string): Network {
  const bad = () => new FunctionError(`invalid CIDR expression: invalid CIDR address: ${s}`);
  const slash = s.indexOf("/");
  if (slash < 0) throw bad();
  const ip = s.slice(0, slash);
  const len = s.slice(slash + 1);
  if (!/^\d+$/.test(len)) throw bad();
  let addr = parseIPv4(ip);
  let bits = 32;
  if (addr === undefined) {
    addr = ip.includes(":") ? parseIPv6(ip) : undefined;
    bits = 128;
  }
  if (addr === undefined) throw bad();
  const prefix = Number(len);
  if (prefix > bits) throw bad();
  return { addr: addr & mask(prefix, bits), bits, prefix };
}

const mask = (prefix: number, bits: number) => ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);

/** Go's net.IP.String(). */
function formatIP(addr: bigint, bits: number): string {
  if (bits === 32) return [24n, 16n, 8n, 0n].map((s) => String((addr >> s) & 0xffn)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => Number((addr >> BigInt(112 - 16 * i)) & 0xffffn));
  // IPv4-mapped addresses print as ::ffff:a.b.c.d.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return "::ffff:" + formatIP(addr & 0xffffffffn, 32);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return hex.slice(0, bestStart).join(":") + "::" + hex.slice(bestStart + bestLen).join(":");
}

const formatNet = (n: Network) => `${formatIP(n.addr, n.bits)}/${n.prefix}`;

function lastAddress(n: Network): bigint {
  return n.addr | ((1n << BigInt(n.bits - n.prefix)) - 1n);
}

export const NETWORK_FUNCTIONS: FunctionTable = {
  cidrhost: {
    impl: ([p, h]) => {
      const n = parseCidr(str(p));
      const hn = num(h);
      if (!hn.isInt()) throw new FunctionError("value must be a whole number", 1);
      let host = hn.toBigInt();
      const max = (1n << BigInt(n.bits - n.prefix)) - 1n;
      if (host < 0n) host = max - (-host - 1n);
      if (host > max || host < 0n) throw new FunctionError(`prefix of ${n.prefix} does not accommodate a host numbered ${hn.toString()}`);
      return Value.string(formatIP(n.addr | host, n.bits));
    },
  },
  cidrnetmask: {
    impl: ([p]) => {
      const n = parseCidr(str(p));
      if (n.bits !== 32) throw new FunctionError(`only IPv4 networks are supported`);
      return Value.string(formatIP(mask(n.prefix, 32), 32));
    },
  },
  cidrsubnet: {
    impl: ([p, nb, nn]) => {
      const n = parseCidr(str(p));
      const newbits = int(nb, "newbits", 1);
      const netnum = num(nn);
      if (!netnum.isInt()) throw new FunctionError("value must be a whole number", 2);
      if (newbits < 0) throw new FunctionError("value must not be negative", 1);
      const newPrefix = n.prefix + newbits;
      if (newPrefix > n.bits) throw new FunctionError(`insufficient address space to extend prefix of ${n.prefix} by ${newbits}`);
      const nv = netnum.toBigInt();
      if (nv < 0n || nv > (1n << BigInt(newbits)) - 1n) throw new FunctionError(`prefix extension of ${newbits} does not accommodate a subnet numbered ${netnum.toString()}`);
      return Value.string(formatNet({ addr: n.addr | (nv << BigInt(n.bits - newPrefix)), bits: n.bits, prefix: newPrefix }));
    },
  },
  cidrsubnets: {
    impl: ([p, ...lengths]) => {
      const base = parseCidr(str(p));
      if (lengths.length === 0) return Value.list([], STRING);
      const first = int(lengths[0], "newbits", 1) + base.prefix;
      const space = 1n << BigInt(base.bits);
      // go-cidr's PreviousSubnet of the base at the first length.
      const prevMask = mask(Math.min(first, base.bits), base.bits);
      let current: Network = { addr: ((base.addr - 1n + space) % space) & prevMask, bits: base.bits, prefix: Math.min(first, base.bits) };
      const out: Value[] = [];
      lengths.forEach((l, i) => {
        const ext = int(l, "newbits", i + 1);
        if (ext < 1) throw new FunctionError("must extend prefix by at least one bit", i + 1);
        if (ext > 32) throw new FunctionError("may not extend prefix by more than 32 bits", i + 1);
        const length = ext + base.prefix;
        if (length > base.bits) throw new FunctionError(`would extend prefix to ${length} bits, which is too long for an ${base.bits === 32 ? "IPv4" : "IPv6"} address`, i + 1);
        const m = mask(length, base.bits);
        const currentSubnet: Network = { addr: lastAddress(current) & m, bits: base.bits, prefix: length };
        const last = (lastAddress(currentSubnet) + 1n) % space;
        const next: Network = { addr: last & m, bits: base.bits, prefix: length };
        const contained = (next.addr & mask(base.prefix, base.bits)) === base.addr;
        if (last === 0n || !contained) throw new FunctionError(`not enough remaining address space for a subnet with a prefix of ${length} bits after ${formatNet(current)}`, i + 1);
        current = next;
        out.push(Value.string(formatNet(current)));
      });
      return Value.list(out, STRING);
    },
  },
};
