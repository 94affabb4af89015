/** Numeric, hash and identifier functions. */
import { createHash, createPrivateKey, privateDecrypt, constants, randomBytes } from "node:crypto";
import bcryptjs from "bcryptjs";
import { BigFloat, FLOAT64_PREC } from "../number.js";
import { Value } from "../value.js";
import { base64Decode } from "./encoding.js";
import { FunctionError, type FunctionTable, int, num, str } from "./support.js";

const hash = (algo: string, enc: "hex" | "base64") => ({ impl: ([s]: Value[]) => Value.string(createHash(algo).update(str(s), "utf8").digest(enc)) });

/** Go's strconv.ParseInt digits for bases up to 62 (big.Int.SetString). */
const DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

const UUID_NAMESPACES: Record<string, string> = {
  dns: "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  url: "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
  oid: "6ba7b812-9dad-11d1-80b4-00c04fd430c8",
  x500: "6ba7b814-9dad-11d1-80b4-00c04fd430c8",
};

function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  const h = createHash("sha1").update(ns).update(name, "utf8").digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export const NUMERIC_FUNCTIONS: FunctionTable = {
  abs: { impl: ([n]) => Value.number(num(n).abs()) },
  ceil: {
    impl: ([n]) => {
      const x = num(n);
      if (x.isInf()) return Value.number(x);
      let i = x.toBigInt();
      if (BigFloat.fromBigInt(i, x.prec).cmp(x) < 0) i += 1n;
      return Value.number(BigFloat.fromBigInt(i, x.prec));
    },
  },
  floor: {
    impl: ([n]) => {
      const x = num(n);
      if (x.isInf()) return Value.number(x);
      let i = x.toBigInt();
      if (BigFloat.fromBigInt(i, x.prec).cmp(x) > 0) i -= 1n;
      return Value.number(BigFloat.fromBigInt(i, x.prec));
    },
  },
  log: { impl: ([n, b]) => Value.number(BigFloat.fromFloat64(Math.log(num(n).toFloat64()) / Math.log(num(b).toFloat64()))) },
  pow: { impl: ([n, p]) => Value.number(BigFloat.fromFloat64(Math.pow(num(n).toFloat64(), num(p).toFloat64()))) },
  signum: { impl: ([n]) => Value.int(num(n).sign()) },
  max: {
    impl: (args) => {
      if (args.length === 0) throw new FunctionError("must pass at least one number");
      return args.reduce((m, a) => (num(a).cmp(num(m)) > 0 ? a : m));
    },
  },
  min: {
    impl: (args) => {
      if (args.length === 0) throw new FunctionError("must pass at least one number");
      return args.reduce((m, a) => (num(a).cmp(num(m)) < 0 ? a : m));
    },
  },
  parseint: {
    impl: ([s, b]) => {
      const base = int(b, "base", 1);
      if (base < 2 || base > 62) throw new FunctionError("base must be a whole number between 2 and 62 inclusive", 1);
      const text = str(s);
      const m = /^([-+]?)(.+)$/.exec(text);
      const digits = DIGITS.slice(0, base);
      const body = m?.[2] ?? "";
      const bodyNorm = base <= 36 ? body.toLowerCase() : body;
      if (!m || bodyNorm === "" || [...bodyNorm].some((c) => !digits.includes(c))) {
        throw new FunctionError(`cannot parse ${JSON.stringify(text)} as a base ${base} integer`, 0);
      }
      let v = 0n;
      for (const c of bodyNorm) v = v * BigInt(base) + BigInt(digits.indexOf(c));
      return Value.number(BigFloat.fromBigInt(m[1] === "-" ? -v : v, 512));
    },
  },
  md5: hash("md5", "hex"),
  sha1: hash("sha1", "hex"),
  sha256: hash("sha256", "hex"),
  sha512: hash("sha512", "hex"),
  base64sha256: hash("sha256", "base64"),
  base64sha512: hash("sha512", "base64"),
  bcrypt: {
    impl: ([s, ...cost]) => {
      if (cost.length > 1) throw new FunctionError("bcrypt() takes no more than two arguments");
      const c = cost.length ? int(cost[0], "cost", 1) : 10;
      if (c > 31) throw new FunctionError(`crypto/bcrypt: cost ${c} is outside allowed range (4,31)`);
      // Go's bcrypt uses its default cost below the minimum, and writes the $2a$ prefix.
      return Value.string(bcryptjs.hashSync(str(s), c < 4 ? 10 : c).replace(/^\$2b\$/, "$2a$"));
    },
  },
  // hashicorp/go-uuid: 16 random bytes in UUID layout, no version or variant bits.
  uuid: {
    impl: () => {
      const x = randomBytes(16).toString("hex");
      return Value.string(`${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`);
    },
  },
  uuidv5: {
    impl: ([ns, name]) => {
      const n = str(ns);
      const id = UUID_NAMESPACES[n] ?? (/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(n) ? n : undefined);
      if (!id) throw new FunctionError(`uuidv5() doesn't support namespace ${n} (invalid UUID length: ${n.length})`);
      return Value.string(uuidV5(id, str(name)));
    },
  },
  rsadecrypt: {
    impl: ([ct, key]) => {
      const data = base64Decode(str(ct));
      if (!data) throw new FunctionError("failed to decode input: illegal base64 data", 0);
      let pk;
      try {
        pk = createPrivateKey(str(key));
      } catch {
        throw new FunctionError("invalid private key: failed to parse key", 1);
      }
      try {
        return Value.string(privateDecrypt({ key: pk, padding: constants.RSA_PKCS1_PADDING }, data).toString("utf8"));
      } catch {
        throw new FunctionError("failed to decrypt: crypto/rsa: decryption error");
      }
    },
  },
};

export { FLOAT64_PREC };
