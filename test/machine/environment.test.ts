/**
 * Differential test: our sudo/su/runuser/env rules against what the real tools printed
 * (test/fixtures/machine/environment.json, recorded by scripts/record-machine-semantics.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type Env, envCommand, passwdLookup, su, sudo, type WrappedCommand } from "../../src/machine/environment.js";
import type { EnvironmentCase } from "../fixtures/machine/scenarios.js";

const recorded = JSON.parse(readFileSync(new URL("../fixtures/machine/environment.json", import.meta.url), "utf8")) as { recordedWith: string; cases: EnvironmentCase[] };
// The accounts of the machine the fixture was recorded on (Debian's base passwd).
const users = passwdLookup("root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
const resolve = (cmd: string) => (cmd.includes("/") ? cmd : `/usr/bin/${cmd}`);

/** What `env` prints at the end of the scenario's chain of wrappers. */
function emulate(argv: string[], env: Env, cwd: string, viaShell = false): Env {
  const [cmd, ...args] = argv;
  const name = cmd.split("/").pop()!;
  // A login shell starts in the user's home when it exists (nobody's /nonexistent does not).
  const next = (w: WrappedCommand) => emulate(w.argv, w.env, w.cwd && existsSync(w.cwd) ? w.cwd : cwd, w.viaShell);
  if (name === "sudo") return next(sudo(args, env, users, resolve));
  if (name === "su") return next(su(args, env, users));
  if (name === "runuser") return next(su(args, env, users, true));
  if (name === "env") {
    const r = envCommand(args, env);
    if (r.argv.length > 0) return emulate(r.argv, r.env, cwd, viaShell);
    return r.env;
  }
  if ((name === "sh" || name === "bash") && args[0] === "-c") {
    // The shell exports PWD before running its command.
    return emulate(args[1].split(" "), { ...env, PWD: env.PWD ?? cwd }, cwd, true);
  }
  throw new Error(`scenario runs ${cmd}`);
}

describe(`environment rules match ${recorded.recordedWith}, util-linux su/runuser and coreutils env`, () => {
  for (const c of recorded.cases) {
    it(c.name, () => {
      expect(emulate(c.argv, { ...c.env }, "/tmp")).toEqual(c.result);
    });
  }
});
