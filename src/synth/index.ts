import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describeErrno, UsageError } from "../errors.js";

export interface SynthResult {
  stacks: { name: string; dir: string; file: string }[];
}

/** The app file named in cdktf.json's `app` ("npx tsx main.ts" → main.ts). */
export async function appFromCdktfJson(dir: string): Promise<{ app: string; output?: string } | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, "cdktf.json"), "utf8");
  } catch {
    return undefined;
  }
  const cfg = JSON.parse(text) as { app?: string; output?: string };
  const file = cfg.app?.split(/\s+/).find((t) => /\.(m?[jt]s)$/.test(t));
  if (!file) throw new UsageError(`cdktf.json's app (${JSON.stringify(cfg.app)}) names no .ts or .js file`, "set app to e.g. \"npx tsx main.ts\" or pass --app FILE");
  return { app: resolve(dir, file), output: cfg.output ? resolve(dir, cfg.output) : undefined };
}

/** Plain Terraform: no cdktf metadata (`//`), no backend (cdktf adds a local one with an absolute path). */
export function toPlainTerraform(doc: Record<string, unknown>): Record<string, unknown> {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (k !== "//") out[k] = strip(x);
      return out;
    }
    return v;
  };
  const plain = strip(doc) as Record<string, unknown>;
  const terraform = plain.terraform as Record<string, unknown> | undefined;
  if (terraform) delete terraform.backend;
  return plain;
}

function findAbsolutePaths(v: unknown, roots: string[], at = "$"): string[] {
  if (typeof v === "string") return roots.some((r) => v.includes(r)) ? [at] : [];
  if (Array.isArray(v)) return v.flatMap((x, i) => findAbsolutePaths(x, roots, `${at}[${i}]`));
  if (v && typeof v === "object") return Object.entries(v).flatMap(([k, x]) => findAbsolutePaths(x, roots, `${at}.${k}`));
  return [];
}

/** `--out` must be a directory (or not exist yet): checked before the app runs. */
async function checkOutDir(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (st && !st.isDirectory()) throw new UsageError(`--out ${dir} is not a directory`, "give a directory (created if missing) for cdk.tf.json", "E_SYNTH_OUT");
}

/**
 * Runs a cdktf app in-process: the module's default export receives the App (a module that builds
 * and synthesizes its own App on import also works). Writes one cdk.tf.json (plus assets) per stack
 * into `out` (directly for one stack, `out/<stack>/` for several).
 */
export async function synthesize(appFile: string, out: string): Promise<SynthResult> {
  const app = resolve(appFile);
  try {
    await stat(app);
  } catch {
    throw new UsageError(`cdktf app ${appFile} not found`, "pass --app FILE or run in a directory with cdktf.json");
  }
  await checkOutDir(resolve(out));
  const { App } = await import("cdktf");
  const work = await mkdtemp(join(tmpdir(), "provisioner-synth-"));
  try {
    let mod: { default?: unknown };
    try {
      if (/\.m?ts$/.test(app)) {
        const { tsImport } = await import("tsx/esm/api");
        mod = (await tsImport(pathToFileURL(app).href, import.meta.url)) as { default?: unknown };
      } else mod = (await import(pathToFileURL(app).href)) as { default?: unknown };
    } catch (err) {
      throw new UsageError(`cdktf app ${appFile} failed to load: ${(err as Error).message.split("\n")[0]}`, "fix the app (run it with `npx tsx FILE` to see the full error)", "E_SYNTH_APP");
    }
    const build = typeof mod.default === "function" ? (mod.default as (a: unknown) => unknown) : (mod as { default?: { default?: unknown } }).default?.default;
    if (typeof build !== "function") throw new UsageError(`cdktf app ${appFile} has no default export function`, "export default function (app: App) { new MyStack(app, \"name\", …) }", "E_SYNTH_APP");
    const instance = new App({ outdir: work, skipValidation: false });
    try {
      await build(instance);
      instance.synth();
    } catch (err) {
      throw new UsageError(`cdktf app ${appFile} failed: ${(err as Error).message.split("\n")[0]}`, "fix the app", "E_SYNTH_APP");
    }
    const stacksDir = join(work, "stacks");
    const names = (await readdir(stacksDir).catch(() => [] as string[])).sort();
    if (names.length === 0) throw new UsageError(`cdktf app ${appFile} defines no stack`, "create a TerraformStack in the app", "E_SYNTH_APP");
    const result: SynthResult = { stacks: [] };
    const staged: { from: string; to: string; name: string }[] = [];
    for (const name of names) {
      const dir = join(stacksDir, name);
      const file = join(dir, "cdk.tf.json");
      const plain = toPlainTerraform(JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>);
      const absolute = findAbsolutePaths(plain, [work, dirname(app), process.cwd()].filter((r) => isAbsolute(r) && r !== "/"));
      if (absolute.length > 0) throw new UsageError(`stack ${name} contains absolute paths at ${absolute.join(", ")}`, "use TerraformAsset (relative paths) for files", "E_SYNTH_ABSOLUTE");
      await writeFile(file, JSON.stringify(plain, null, 2) + "\n");
      staged.push({ from: dir, to: names.length === 1 ? resolve(out) : resolve(out, name), name });
    }
    for (const s of staged) {
      await checkOutDir(s.to);
      // Never write over a directory that is not earlier synth output (e.g. `--out .` in a project).
      const existing = await readdir(s.to).catch(() => [] as string[]);
      if (existing.length > 0 && !existing.includes("cdk.tf.json")) {
        throw new UsageError(`${s.to} is not empty and holds no earlier synth output`, "choose an empty --out directory", "E_SYNTH_OUT");
      }
    }
    for (const s of staged) {
      try {
        await mkdir(s.to, { recursive: true });
        await rm(join(s.to, "assets"), { recursive: true, force: true });
        await cp(s.from, s.to, { recursive: true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new UsageError(`cannot write ${s.to}: ${describeErrno(code, (err as Error).message)}`, "choose an --out directory this user can write", "E_SYNTH_OUT");
      }
      result.stacks.push({ name: s.name, dir: s.to, file: join(s.to, "cdk.tf.json") });
    }
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
