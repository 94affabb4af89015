/**
 * The engine's behaviour beyond what `terraform console` shows (the conformance suite covers that):
 * the real-template syntax patterns, exact positions in errors, unknown values that name their
 * reference, templatefile's static check, files read as bytes.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { workspaceContext } from "../../src/plan/context.js";
import { ModuleScope } from "../../src/plan/scope.js";
import { EvalError, Evaluator, HclSyntaxError, parseExpression, parseHclFile, Value } from "../../src/template/hcl/index.js";
import { loadModule } from "../../src/template/load.js";
import { repoRoot } from "../support/cli.js";

const patterns = join(repoRoot, "test/fixtures/real-patterns");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function module(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), "hcl-"));
  dirs.push(dir);
  for (const [n, t] of Object.entries(files)) writeFileSync(join(dir, n), t);
  return ModuleScope.root(loadModule(dir), workspaceContext());
}
const evalIn = (scope: ModuleScope, src: string) => scope.evaluator.eval(parseExpression(src));
const bare = new Evaluator({ baseDir: tmpdir(), resolve: () => Value.nullOf() });

describe("syntax of real templates (test/fixtures/real-patterns/parser)", () => {
  it("evaluates a legacy splat followed by an index as Terraform does", () => {
    const s = ModuleScope.root(loadModule(join(patterns, "parser/legacy-attr-splat-index")), workspaceContext());
    expect(s.local("first").asString()).toBe("a");
  });

  it("nests full splats", () => {
    const s = ModuleScope.root(loadModule(join(patterns, "parser/nested-full-splat")), workspaceContext());
    expect(s.local("names").asArray().map((v) => v.asString())).toEqual(["a", "b"]);
  });

  it("reads Unicode identifiers and a BOM", () => {
    const s = ModuleScope.root(loadModule(join(patterns, "parser/unicode-identifier")), workspaceContext());
    expect(s.local("π").asNumber().toString()).toBe("3.14159265359");
    expect(parseHclFile("\ufefflocals {\n  a = 1\n}\n").blocks[0].body.attributes[0].name).toBe("a");
  });

  it("parses provider-defined function calls", () => {
    expect(() => loadModule(join(patterns, "parser/provider-function"))).not.toThrow();
  });

  it("rejects an attribute defined twice, at the second definition", () => {
    let err: unknown;
    try {
      parseHclFile('resource "coder_agent" "main" {\n  os   = "linux"\n  os   = "windows"\n}\n');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HclSyntaxError);
    expect((err as HclSyntaxError).diagnostic.summary).toBe("Attribute redefined");
    expect([(err as HclSyntaxError).line, (err as HclSyntaxError).column]).toEqual([3, 3]);
  });
});

describe("positions", () => {
  it("puts every expression's start and end where it is written", () => {
    const body = parseHclFile('locals {\n  a = upper("x")\n  b = [\n    1,\n  ]\n}\n');
    const [a, b] = body.blocks[0].body.attributes;
    expect([a.expr.pos.line, a.expr.pos.column, a.expr.end.line, a.expr.end.column]).toEqual([2, 7, 2, 17]);
    expect([b.expr.pos.line, b.expr.end.line, b.expr.end.column]).toEqual([3, 5, 4]);
  });

  it("reports evaluation errors at the failing sub-expression, with the file", () => {
    const s = module({ "main.tf": 'locals {\n  bad = 1 + "x"\n}\n' });
    let err: unknown;
    try {
      s.local("bad");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EvalError);
    const d = (err as EvalError).diagnostic;
    expect([d.file, d.range?.start.line, d.range?.start.column, d.summary]).toEqual(["main.tf", 2, 13, "Invalid operand"]);
  });
});

describe("unknown values", () => {
  it("name the reference that was unknown, through operators, functions and templates", () => {
    const s = module({ "main.tf": 'resource "aws_instance" "dev" {\n  ami = "ami-1"\n}\nlocals {\n  u = "ip=${upper(aws_instance.dev.private_ip)}"\n}\n' });
    const v = s.local("u");
    expect(v.isKnown).toBe(false);
    expect(v.unknownReason).toBe("aws_instance.dev.private_ip");
    expect(evalIn(s, "aws_instance.dev.ami").asString()).toBe("ami-1");
  });

  it("count = 0 makes an index an error, so try() falls back (real-patterns/try-count-zero)", () => {
    const s = ModuleScope.root(loadModule(join(patterns, "try-count-zero")), workspaceContext());
    expect(s.local("list").asString()).toBe("A=1");
  });

  it("a parameter is its default unless given (real-patterns/parameter-default)", () => {
    const config = loadModule(join(patterns, "parameter-default"));
    expect(evalIn(ModuleScope.root(config, workspaceContext()), "data.coder_parameter.image.value").asString()).toBe("ubuntu");
    expect(evalIn(ModuleScope.root(config, workspaceContext({ parameters: { image: "debian" } })), "data.coder_parameter.image.value").asString()).toBe("debian");
  });
});

describe("templatefile and files", () => {
  it("checks a template's variables statically, even inside try() (real-patterns/templatefile-missing-var)", () => {
    const s = ModuleScope.root(loadModule(join(patterns, "templatefile-missing-var")), workspaceContext());
    expect(() => s.local("v")).toThrow(/vars map does not contain key "MISSING"/);
  });

  it("reads files as bytes: filebase64 of a binary file is exact, file() refuses invalid UTF-8", () => {
    const bytes = Buffer.from([0, 255, 254, 1, 2, 3]);
    const dir = mkdtempSync(join(tmpdir(), "hcl-"));
    dirs.push(dir);
    writeFileSync(join(dir, "blob.bin"), bytes);
    const ev = new Evaluator({ baseDir: dir, resolve: () => Value.nullOf() });
    expect(ev.eval(parseExpression('filebase64("blob.bin")')).asString()).toBe(bytes.toString("base64"));
    expect(() => ev.eval(parseExpression('file("blob.bin")'))).toThrow(/not valid UTF-8/);
  });

  it("base64gzip is gzip of the UTF-8 bytes (the deflate stream differs from Go's: KNOWN-DIFFERENCES.md)", () => {
    const v = bare.eval(parseExpression('base64gzip("hello ✓")')).asString();
    expect(gunzipSync(Buffer.from(v, "base64")).toString("utf8")).toBe("hello ✓");
  });
});
