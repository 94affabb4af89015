/**
 * Numbers as Terraform has them: cty numbers are Go `big.Float`s (binary, 512-bit mantissa for parsed
 * numbers, rounding to nearest even), printed as the shortest decimal that reads back to the same
 * value. A decimal library gives other digits (`1/3` is `0.333…335` in Terraform), so this is an
 * emulation of `math/big.Float` on BigInt: value = (-1)^neg × mant × 2^exp, mant < 2^prec.
 */

/** Precision of numbers Terraform parses from source, JSON or strings (cty.ParseNumberVal). */
export const PARSE_PREC = 512;
/** Precision of numbers made from Go integers (cty.NumberIntVal: big.Float.SetInt64). */
export const INT_PREC = 64;
/** Precision of numbers made from Go float64 (cty.NumberFloatVal). */
export const FLOAT64_PREC = 53;

export class NumberError extends Error {}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

const pow5Cache = new Map<number, bigint>();
function pow5(n: number): bigint {
  let v = pow5Cache.get(n);
  if (v === undefined) {
    v = 5n ** BigInt(n);
    if (n < 4096) pow5Cache.set(n, v);
  }
  return v;
}

export class BigFloat {
  private constructor(
    readonly neg: boolean,
    /** Mantissa without trailing zero bits (0 for zero). */
    readonly mant: bigint,
    readonly exp: number,
    readonly prec: number,
    readonly inf: boolean,
  ) {}

  static zero(prec = PARSE_PREC, neg = false): BigFloat {
    return new BigFloat(neg, 0n, 0, prec, false);
  }

  static infinity(neg: boolean, prec = PARSE_PREC): BigFloat {
    return new BigFloat(neg, 0n, 0, prec, true);
  }

  /** Rounds mant × 2^exp to prec bits, nearest even; `sticky` = nonzero bits below mant were dropped. */
  static round(neg: boolean, mant: bigint, exp: number, prec: number, sticky = false): BigFloat {
    if (mant === 0n) return BigFloat.zero(prec, neg);
    const bl = bitLength(mant);
    if (bl > prec) {
      const shift = bl - prec;
      const dropped = mant & ((1n << BigInt(shift)) - 1n);
      const half = 1n << BigInt(shift - 1);
      mant >>= BigInt(shift);
      exp += shift;
      if (dropped > half || (dropped === half && (sticky || (mant & 1n) === 1n))) mant += 1n;
    }
    // Canonical form: no trailing zero bits, so equal values have equal fields.
    if (mant !== 0n) {
      while ((mant & 0xffffn) === 0n) {
        mant >>= 16n;
        exp += 16;
      }
      while ((mant & 1n) === 0n) {
        mant >>= 1n;
        exp += 1;
      }
    }
    return new BigFloat(neg, mant, exp, prec, false);
  }

  static fromBigInt(n: bigint, prec = INT_PREC): BigFloat {
    return BigFloat.round(n < 0n, n < 0n ? -n : n, 0, prec);
  }

  static fromInt(n: number, prec = INT_PREC): BigFloat {
    return BigFloat.fromBigInt(BigInt(n), prec);
  }

  /** A JS double, exactly (cty.NumberFloatVal). */
  static fromFloat64(f: number): BigFloat {
    if (!Number.isFinite(f)) {
      if (Number.isNaN(f)) throw new NumberError("NaN is not a number Terraform can represent");
      return BigFloat.infinity(f < 0, FLOAT64_PREC);
    }
    if (f === 0) return BigFloat.zero(FLOAT64_PREC, Object.is(f, -0));
    const buf = new DataView(new ArrayBuffer(8));
    buf.setFloat64(0, f);
    const bits = buf.getBigUint64(0);
    const neg = bits >> 63n === 1n;
    const e = Number((bits >> 52n) & 0x7ffn);
    let m = bits & ((1n << 52n) - 1n);
    let exp: number;
    if (e === 0) exp = -1074;
    else {
      m |= 1n << 52n;
      exp = e - 1075;
    }
    return BigFloat.round(neg, m, exp, FLOAT64_PREC);
  }

  /**
   * Parses a decimal number as Go's big.Float.Parse does at `prec` bits (what cty.ParseNumberVal
   * uses): the digits exactly, times 2^e exactly, divided or multiplied by 5^e (computed at prec+64
   * bits as Go does for large powers). Returns undefined for text that is not a number.
   */
  static parse(text: string, prec = PARSE_PREC): BigFloat | undefined {
    const m = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/.exec(text);
    if (!m) {
      const inf = /^([+-]?)Inf(inity)?$/i.exec(text);
      if (inf) return BigFloat.infinity(inf[1] === "-", prec);
      return undefined;
    }
    const neg = m[1] === "-";
    const intPart = m[2] ?? "";
    const fracPart = m[3] ?? m[4] ?? "";
    const digits = BigInt((intPart + fracPart).replace(/^0+(?=\d)/, "") || "0");
    const exp10 = (m[5] ? Number(m[5]) : 0) - fracPart.length;
    if (!Number.isSafeInteger(exp10) || Math.abs(exp10) > 1_000_000) throw new NumberError("exponent overflow");
    if (digits === 0n) return BigFloat.zero(prec, neg);
    if (exp10 === 0) return BigFloat.round(neg, digits, 0, prec);
    // 10^e = 5^e × 2^e: the digits and the power of two are exact, 5^e is applied with one rounding.
    const p = BigFloat.pow5(Math.abs(exp10), prec + 64);
    const exact = new BigFloat(neg, digits, exp10, prec, false);
    return exp10 < 0 ? exact.quo(p, prec) : exact.mul(p, prec);
  }

  /** 5^n as Go's Float.pow5 computes it at `prec` bits (exact while it fits). */
  private static pow5(n: number, prec: number): BigFloat {
    if (n <= 27) return BigFloat.round(false, pow5(n), 0, prec);
    const exact = pow5(n);
    if (bitLength(exact) <= prec) return BigFloat.round(false, exact, 0, prec);
    let z = BigFloat.round(false, pow5(27), 0, prec);
    let f = BigFloat.round(false, 5n, 0, prec + 64);
    let k = n - 27;
    while (k > 0) {
      if (k & 1) z = z.mul(f, prec);
      f = f.mul(f, prec + 64);
      k >>= 1;
    }
    return z;
  }

  isZero(): boolean {
    return !this.inf && this.mant === 0n;
  }

  isInf(): boolean {
    return this.inf;
  }

  sign(): number {
    if (this.isZero()) return 0;
    return this.neg ? -1 : 1;
  }

  isInt(): boolean {
    if (this.inf) return false;
    return this.mant === 0n || this.exp >= 0;
  }

  neg_(): BigFloat {
    return new BigFloat(!this.neg, this.mant, this.exp, this.prec, this.inf);
  }

  abs(): BigFloat {
    return this.neg ? this.neg_() : this;
  }

  withPrec(prec: number): BigFloat {
    if (this.inf) return BigFloat.infinity(this.neg, prec);
    return BigFloat.round(this.neg, this.mant, this.exp, prec);
  }

  add(y: BigFloat, prec = Math.max(this.prec, y.prec)): BigFloat {
    const x = this;
    if (x.inf || y.inf) {
      if (x.inf && y.inf && x.neg !== y.neg) throw new NumberError("can't add opposite infinities");
      return BigFloat.infinity(x.inf ? x.neg : y.neg, prec);
    }
    if (x.mant === 0n) return y.mant === 0n ? BigFloat.zero(prec, x.neg && y.neg) : y.withPrec(prec);
    if (y.mant === 0n) return x.withPrec(prec);
    const e = Math.min(x.exp, y.exp);
    const a = (x.neg ? -1n : 1n) * (x.mant << BigInt(x.exp - e));
    const b = (y.neg ? -1n : 1n) * (y.mant << BigInt(y.exp - e));
    const s = a + b;
    if (s === 0n) return BigFloat.zero(prec, false);
    return BigFloat.round(s < 0n, s < 0n ? -s : s, e, prec);
  }

  sub(y: BigFloat, prec = Math.max(this.prec, y.prec)): BigFloat {
    if (this.inf && y.inf && this.neg === y.neg) throw new NumberError("can't subtract infinity from infinity");
    return this.add(y.neg_(), prec);
  }

  mul(y: BigFloat, prec = Math.max(this.prec, y.prec)): BigFloat {
    const neg = this.neg !== y.neg;
    if (this.inf || y.inf) {
      if (this.isZero() || y.isZero()) throw new NumberError("can't multiply zero by infinity");
      return BigFloat.infinity(neg, prec);
    }
    if (this.mant === 0n || y.mant === 0n) return BigFloat.zero(prec, neg);
    return BigFloat.round(neg, this.mant * y.mant, this.exp + y.exp, prec);
  }

  quo(y: BigFloat, prec = Math.max(this.prec, y.prec)): BigFloat {
    const neg = this.neg !== y.neg;
    if ((this.isZero() && y.isZero()) || (this.inf && y.inf)) {
      throw new NumberError("can't divide zero by zero or infinity by infinity");
    }
    if (this.inf || y.isZero()) return BigFloat.infinity(neg, prec);
    if (y.inf || this.isZero()) return BigFloat.zero(prec, neg);
    const k = Math.max(0, prec + 2 + bitLength(y.mant) - bitLength(this.mant));
    const num = this.mant << BigInt(k);
    const q = num / y.mant;
    const r = num % y.mant;
    return BigFloat.round(neg, q, this.exp - k - y.exp, prec, r !== 0n);
  }

  cmp(y: BigFloat): number {
    if (this.inf || y.inf) {
      const a = this.inf ? (this.neg ? -2 : 2) : 0;
      const b = y.inf ? (y.neg ? -2 : 2) : 0;
      if (a !== b) return a < b ? -1 : 1;
      if (a !== 0) return 0;
    }
    const sa = this.sign();
    const sb = y.sign();
    if (sa !== sb) return sa < sb ? -1 : 1;
    if (sa === 0) return 0;
    const e = Math.min(this.exp, y.exp);
    const a = this.mant << BigInt(this.exp - e);
    const b = y.mant << BigInt(y.exp - e);
    const c = a === b ? 0 : a < b ? -1 : 1;
    return sa < 0 ? -c : c;
  }

  /** Integer part, truncated toward zero (Go's Float.Int). */
  toBigInt(): bigint {
    if (this.inf) throw new NumberError("infinity has no integer value");
    if (this.mant === 0n) return 0n;
    const v = this.exp >= 0 ? this.mant << BigInt(this.exp) : this.mant >> BigInt(-this.exp);
    return this.neg ? -v : v;
  }

  /** Nearest JS double (for functions Terraform computes in float64: pow, log). */
  toFloat64(): number {
    if (this.inf) return this.neg ? -Infinity : Infinity;
    return Number(this.toText("e", 20));
  }

  /** Exact decimal expansion: digits (no trailing zeros) and the decimal point position (Go's `decimal`). */
  private toDecimal(mant = this.mant, exp = this.exp): Decimal {
    if (mant === 0n) return { mant: "", exp: 0 };
    let digits: string;
    let point: number;
    if (exp >= 0) {
      digits = (mant << BigInt(exp)).toString();
      point = digits.length;
    } else {
      digits = (mant * pow5(-exp)).toString();
      point = digits.length + exp;
    }
    return trim({ mant: digits, exp: point });
  }

  /**
   * Go's big.Float.Text(format, prec) for 'f', 'e', 'E', 'g', 'G'; prec < 0 = the shortest decimal that
   * reads back as this number at its precision.
   */
  toText(format: "f" | "e" | "E" | "g" | "G", prec = -1): string {
    let out = this.neg ? "-" : "";
    if (this.inf) return out + (this.neg ? "" : "+") + "Inf";
    let d = this.toDecimal();
    let shortest = false;
    if (prec < 0) {
      shortest = true;
      d = this.roundShortest(d);
      if (format === "e" || format === "E") prec = d.mant.length - 1;
      else if (format === "f") prec = Math.max(d.mant.length - d.exp, 0);
      else prec = d.mant.length;
    } else if (format === "e" || format === "E") d = roundDecimal(d, 1 + prec);
    else if (format === "f") d = roundDecimal(d, d.exp + prec);
    else {
      if (prec === 0) prec = 1;
      d = roundDecimal(d, prec);
    }
    if (format === "e" || format === "E") return out + fmtE(format, prec, d);
    if (format === "f") return out + fmtF(prec, d);
    let eprec = prec;
    if (eprec > d.mant.length && d.mant.length >= d.exp) eprec = d.mant.length;
    if (shortest) eprec = 6;
    const exp = d.exp - 1;
    if (exp < -4 || exp >= eprec) {
      if (prec > d.mant.length) prec = d.mant.length;
      return out + fmtE(format === "g" ? "e" : "E", prec - 1, d);
    }
    if (prec > d.exp) prec = d.mant.length;
    out += fmtF(Math.max(prec - d.exp, 0), d);
    return out;
  }

  /** Go's roundShortest: the fewest digits between the halfway points to the neighbours at this precision. */
  private roundShortest(d: Decimal): Decimal {
    if (d.mant.length === 0) return d;
    // Fast path: an integer that fits the precision prints exactly.
    if (this.exp >= 0 && bitLength(this.mant) + this.exp <= this.prec) return d;
    let mant = this.mant;
    let exp = this.exp;
    const s = bitLength(mant) - (this.prec + 1);
    if (s < 0) {
      mant <<= BigInt(-s);
      exp += s;
    } else if (s > 0) {
      mant >>= BigInt(s);
      exp += s;
    }
    const lower = this.toDecimal(mant - 1n, exp);
    const upper = this.toDecimal(mant + 1n, exp);
    const inclusive = (mant & 2n) === 0n;
    const at = (x: Decimal, i: number) => (i < x.mant.length ? x.mant.charCodeAt(i) - 48 : 0);
    // As math/big does: digit strings compared position by position, without aligning decimal points.
    const lo = lower;
    const up = upper;
    for (let i = 0; i < d.mant.length; i++) {
      const l = at(lo, i);
      const m = at(d, i);
      const u = at(up, i);
      const okdown = l !== m || (inclusive && i + 1 === lo.mant.length);
      const okup = m !== u && (inclusive || m + 1 < u || i + 1 < up.mant.length);
      if (okdown && okup) return roundDecimal(d, i + 1);
      if (okdown) return roundDown(d, i + 1);
      if (okup) return roundUp(d, i + 1);
    }
    return d;
  }

  /** cty's number → string conversion. */
  toString(): string {
    return this.toText("f", -1);
  }
}

interface Decimal {
  /** Digits, no trailing zeros; "" is zero. */
  mant: string;
  /** Position of the decimal point: value = 0.mant × 10^exp. */
  exp: number;
}

function trim(d: Decimal): Decimal {
  const t = d.mant.replace(/0+$/, "");
  return t === "" ? { mant: "", exp: 0 } : { mant: t, exp: d.exp };
}

function shouldRoundUp(d: Decimal, n: number): boolean {
  if (d.mant[n] === "5" && n + 1 === d.mant.length) return n > 0 && (d.mant.charCodeAt(n - 1) - 48) % 2 === 1;
  return d.mant[n] >= "5";
}

function roundDecimal(d: Decimal, n: number): Decimal {
  if (n < 0 || n >= d.mant.length) return d;
  return shouldRoundUp(d, n) ? roundUp(d, n) : roundDown(d, n);
}

function roundUp(d: Decimal, n: number): Decimal {
  if (n < 0 || n >= d.mant.length) return d;
  while (n > 0 && d.mant[n - 1] >= "9") n--;
  if (n === 0) return { mant: "1", exp: d.exp + 1 };
  return { mant: d.mant.slice(0, n - 1) + String.fromCharCode(d.mant.charCodeAt(n - 1) + 1), exp: d.exp };
}

function roundDown(d: Decimal, n: number): Decimal {
  if (n < 0 || n >= d.mant.length) return d;
  return trim({ mant: d.mant.slice(0, n), exp: d.exp });
}

function digitAt(d: Decimal, i: number): string {
  return i >= 0 && i < d.mant.length ? d.mant[i] : "0";
}

function fmtE(format: "e" | "E", prec: number, d: Decimal): string {
  let out = d.mant.length > 0 ? d.mant[0] : "0";
  if (prec > 0) {
    out += ".";
    out += d.mant.slice(1, Math.min(d.mant.length, prec + 1));
    for (let i = Math.max(1, Math.min(d.mant.length, prec + 1)); i <= prec; i++) out += "0";
  }
  out += format;
  let exp = d.mant.length > 0 ? d.exp - 1 : 0;
  out += exp < 0 ? "-" : "+";
  exp = Math.abs(exp);
  return out + (exp < 10 ? "0" : "") + String(exp);
}

function fmtF(prec: number, d: Decimal): string {
  let out = "";
  if (d.exp > 0) {
    const m = Math.min(d.mant.length, d.exp);
    out += d.mant.slice(0, m) + "0".repeat(d.exp - m);
  } else out += "0";
  if (prec > 0) {
    out += ".";
    for (let i = 0; i < prec; i++) out += digitAt(d, d.exp + i);
  }
  return out;
}
