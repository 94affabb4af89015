import { execa } from "execa";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const cliPath = fileURLToPath(new URL("../../bin/provisioner.js", import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI (`npm test` compiles dist/ first) as a black box.
 * NO_COLOR keeps output stable; the caller may override env and cwd.
 */
export async function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; input?: string; timeout?: number } = {},
): Promise<CliResult> {
  const r = await execa(process.execPath, [cliPath, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: { NO_COLOR: "1", ...opts.env },
    input: opts.input,
    reject: false,
    timeout: opts.timeout ?? 60_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
