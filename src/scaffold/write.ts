import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile, cp } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { describeErrno, UsageError } from "../errors.js";
import type { GeneratedFile } from "./options.js";

async function entries(dir: string): Promise<string[] | undefined> {
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw new UsageError(`${dir} exists and is not a directory`, "choose another DIR", "E_INIT_TARGET");
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * Writes generated files into `dir` so that a failure leaves nothing half-written: every file is
 * written into a staging directory beside the target first, then moved into place.
 */
export async function writeScaffold(dir: string, files: GeneratedFile[], opts: { force: boolean }): Promise<string[]> {
  try {
    return await write(resolve(dir), dir, files, opts);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof UsageError || !code) throw err;
    throw new UsageError(`cannot write ${dir}: ${describeErrno(code, (err as Error).message)}`, "choose a DIR this user can write", "E_INIT_TARGET");
  }
}

async function write(target: string, dir: string, files: GeneratedFile[], opts: { force: boolean }): Promise<string[]> {
  const existing = await entries(target);
  if (existing && existing.length > 0 && !opts.force) {
    throw new UsageError(`${dir} is not empty`, "choose an empty or new directory, or pass --force to overwrite", "E_INIT_NOT_EMPTY");
  }
  await mkdir(dirname(target), { recursive: true });
  const staging = await mkdtemp(join(dirname(target), ".provisioner-init-"));
  try {
    for (const f of files) {
      const p = join(staging, f.path);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, f.content, { mode: f.mode ?? 0o644 });
    }
    if (!existing) {
      await rename(staging, target);
    } else {
      // --force into an existing directory: replace only the files we generate.
      for (const f of files) {
        const to = join(target, f.path);
        await mkdir(dirname(to), { recursive: true });
        await cp(join(staging, f.path), to, { force: true });
      }
      await rm(staging, { recursive: true, force: true });
    }
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  return files.map((f) => join(target, f.path));
}
