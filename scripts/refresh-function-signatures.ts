/**
 * Regenerates src/template/hcl/functions/signatures.json from `terraform metadata functions -json`:
 * the parameter names, types and nullability of every built-in function of the Terraform on PATH.
 * Usage: npx tsx scripts/refresh-function-signatures.ts
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface Param {
  name: string;
  type: unknown;
  is_nullable?: boolean;
}
interface Signature {
  return_type: unknown;
  parameters?: Param[];
  variadic_parameter?: Param;
}

const dir = mkdtempSync(join(tmpdir(), "provisioner-tf-"));
try {
  const out = execFileSync("terraform", ["metadata", "functions", "-json"], { cwd: dir, encoding: "utf8" });
  const all = (JSON.parse(out) as { function_signatures: Record<string, Signature> }).function_signatures;
  const param = (p: Param) => ({ name: p.name, type: p.type, ...(p.is_nullable ? { nullable: true } : {}) });
  const result: Record<string, unknown> = {};
  for (const name of Object.keys(all).filter((n) => !n.includes("::")).sort()) {
    const s = all[name];
    result[name] = {
      params: (s.parameters ?? []).map(param),
      ...(s.variadic_parameter ? { variadic: param(s.variadic_parameter) } : {}),
      returns: s.return_type,
    };
  }
  const version = execFileSync("terraform", ["version", "-json"], { encoding: "utf8" });
  const file = new URL("../src/template/hcl/functions/signatures.json", import.meta.url);
  writeFileSync(file, JSON.stringify({ terraform: (JSON.parse(version) as { terraform_version: string }).terraform_version, functions: result }, null, 1) + "\n");
  console.log(`${Object.keys(result).length} functions written to ${file.pathname}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
