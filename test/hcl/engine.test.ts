import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EvalError, HclSyntaxError, evaluateExpression, evaluateJsonExpression, evaluateTemplate, parseHclFile, references } from "../../src/template/hcl/index.js";

const scope = { moduleDir: "/nonexistent" };
const ev = (src: string) => evaluateExpression(src, scope);

// Expected values were produced by Terraform 1.11.4 (`terraform output -json` of the same expressions).
describe("HCL expressions match Terraform", () => {
  it("flush heredoc with directives and strip markers keeps indentation after ~}", () => {
    const src = `<<-EOT
    #!/bin/bash
    %{ for name, a in {dev = "d", main = "m"} ~}
    CODER_AGENT_NAME=\${name} sh -c '\${a}'
    %{ endfor ~}
    echo "$\${HOME}" %%{x}
  EOT`;
    expect(ev(src)).toBe("#!/bin/bash\n    CODER_AGENT_NAME=dev sh -c 'd'\n    CODER_AGENT_NAME=main sh -c 'm'\n    echo \"${HOME}\" %{x}\n");
  });

  it("flush heredoc where a stripped token leaves indentation zero", () => {
    const src = `<<-EOT
      deeper
    %{~ if true ~}
    base \${"v"}
    %{~ endif }
    end
  EOT`;
    expect(ev(src)).toBe("      deeper\n    base v\n\n    end\n");
  });

  it("plain heredoc keeps everything", () => {
    expect(ev(`<<EOT\n  keep \${"indent"}\n    here\nEOT`)).toBe("  keep indent\n    here\n");
  });

  it("interpolation, directives, numbers and bools", () => {
    expect(ev(`"a\${"b"}c %{ if true }yes%{ else }no%{ endif } \${1.5 + 1} \${10/4} \${true}"`)).toBe("abc yes 2.5 2.5 true");
    expect(ev(`"  \${~"x"~}  \\n  y"`)).toBe("xy");
  });

  it("for expressions iterate maps in key order, with filters and grouping", () => {
    expect(ev(`[for k, v in {b = 2, a = 1} : "\${k}=\${v}" if v > 0]`)).toEqual(["a=1", "b=2"]);
    expect(ev(`{for s in ["x", "yy", "x"] : s => length(s)...}`)).toEqual({ x: [1, 1], yy: [2] });
    expect(ev(`join(",", [for x in range(3) : tostring(x * 2)])`)).toBe("0,2,4");
  });

  it("functions", () => {
    expect(ev(`format("%s-%d-%q-%5s|%v", "a", 3, "q", "r", 2)`)).toBe('a-3-"q"-    r|2');
    expect(ev(`jsonencode({b = [1, "x<y>&"], a = null, c = true})`)).toBe('{"a":null,"b":[1,"x\\u003cy\\u003e\\u0026"],"c":true}');
    expect(ev(`try(tostring({}), "fallback")`)).toBe("fallback");
    expect(ev(`replace("a-b-c", "/-(b)-/", "[$1]")`)).toBe("a[b]c");
    expect(ev(`[{n = 1}, {n = 2}][*].n`)).toEqual([1, 2]);
    expect(ev(`base64decode(base64encode("héllo\\n"))`)).toBe("héllo\n");
    expect(ev(`can(local.missing)`)).toBe(false);
    expect(ev(`length(merge({a = 1}, {b = 2}))`)).toBe(2);
    expect(ev(`coalesce("", "x")`)).toBe("x");
  });

  it("conditionals and operators", () => {
    expect(ev(`1 + 2 * 3 == 7 && !false ? "yes" : "no"`)).toBe("yes");
    expect(ev(`"start" == "start" ? 1 : 0`)).toBe(1);
  });
});

describe("references and scopes", () => {
  it("resolves var, local, path and provider references", () => {
    const dir = mkdtempSync(join(tmpdir(), "hcl-"));
    writeFileSync(join(dir, "t.tftpl"), "%{ for name, s in agents ~}\n${name}: ${base64encode(s)}\n%{ endfor ~}\nuser=${user}\n");
    const value = evaluateExpression(`templatefile("\${path.module}/t.tftpl", { agents = local.scripts, user = var.user })`, {
      moduleDir: dir,
      variables: { user: "coder" },
      locals: { scripts: `{ main = try(coder_agent.main[0].init_script, ""), dev = try(coder_agent.dev[0].init_script, "") }` },
      resolve: (ref) => (ref.join(".") === "coder_agent.main.0.init_script" ? "M" : undefined),
    });
    expect(value).toBe("dev: \nmain: TQ==\nuser=coder\n");
  });

  it("reports unknown references and functions as EvalError", () => {
    expect(() => ev("aws_instance.x.id")).toThrow(EvalError);
    expect(() => ev("nosuchfn(1)")).toThrow(/unknown function nosuchfn/);
  });

  it("lists static references", () => {
    expect(references("aws_instance.workspace[0].id")).toEqual([["aws_instance", "workspace", 0, "id"]]);
    expect(references(`[for a in var.xs : coder_agent.main[0].id]`)).toEqual([
      ["var", "xs"],
      ["coder_agent", "main", 0, "id"],
    ]);
  });

  it("evaluates Terraform JSON strings as templates", () => {
    const v = evaluateJsonExpression({ a: "${1 + 1}", b: ["x-${var.y}"] }, { moduleDir: "/", variables: { y: "z" } });
    expect(v).toEqual({ a: 2, b: ["x-z"] });
  });

  it("evaluates a template with vars", () => {
    expect(evaluateTemplate("%{ if x }on%{ else }off%{ endif }", scope, { x: false })).toBe("off");
  });
});

describe("parsing .tf files", () => {
  it("parses blocks, labels, attributes with positions and raw sources", () => {
    const body = parseHclFile(`# comment
resource "aws_instance" "dev" {
  count = data.coder_workspace.me.start_count
  user_data = <<-EOT
    echo hi
  EOT
  tags = {
    Name = "x"
  }
  lifecycle {
    ignore_changes = [ami]
  }
}
`);
    const block = body.blocks[0];
    expect(block.type).toBe("resource");
    expect(block.labels).toEqual(["aws_instance", "dev"]);
    expect(block.pos.line).toBe(2);
    const ud = block.body.attributes.find((a) => a.name === "user_data")!;
    expect(ud.pos.line).toBe(4);
    expect(ud.source).toBe("<<-EOT\n    echo hi\n  EOT");
    expect(block.body.blocks[0].type).toBe("lifecycle");
  });

  it("reports syntax errors with line and column", () => {
    try {
      parseHclFile(`resource "a" "b" {\n  x = \n}\n`);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(HclSyntaxError);
      expect((err as HclSyntaxError).line).toBe(2);
    }
  });
});
