/**
 * What `coder_agent.<name>.init_script` is during an e2e run: coderd's Linux bootstrap (download the
 * agent from the access URL, export its auth and URL, `exec ./coder agent`), plus the metadata URL of
 * the instance's fake IMDS and a copy of the agent's output for the report. Like coderd's today, it
 * contains no single quote (templates paste it into `sh -c '…'`) — unless `fuzz` asks for the
 * characters a future bootstrap may hold: it then checks that it reached the shell unaltered.
 */
export function bootstrapScript(opts: {
  agent: string;
  arch: string;
  auth: string;
  accessUrl: string;
  /** The instance's metadata service (instance-identity agents). */
  metadataUrl?: string;
  /** Where the agent's output is copied, inside the instance. */
  logFile: string;
  /** The template version (2 and later: the bootstrap of another Coder release, a changed init_script). */
  revision?: number;
  /** Hold ' " $ ` %{ ${ and refuse to start when they were interpreted on the way (e2e --fuzz-bootstrap). */
  fuzz?: boolean;
}): string {
  const script = `#!/usr/bin/env sh
# coder_agent.${opts.agent}.init_script (provisioner e2e: the coderd bootstrap for linux/${opts.arch})
set -eu
mkdir -p "$(dirname "${opts.logFile}")"
${opts.fuzz ? "PROVISIONER_BOOTSTRAP_HEAD=ran\n" : ""}${opts.revision && opts.revision > 1 ? `# template version ${opts.revision}: the bootstrap of another Coder release
` : ""}${opts.fuzz ? FUZZ(opts.logFile) : ""}
echo "bootstrap: starting agent ${opts.agent} as $(id -un 2>/dev/null || echo "\${USER:-?}")" >> "${opts.logFile}"
BINARY_DIR=$(mktemp -d -t coder.XXXXXX)
BINARY_NAME=coder
BINARY_URL="${opts.accessUrl}bin/coder-linux-${opts.arch}"
cd "$BINARY_DIR"
attempt=0
while :; do
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --compressed "$BINARY_URL" -o "$BINARY_NAME" && break
  elif command -v wget >/dev/null 2>&1; then
    wget -q "$BINARY_URL" -O "$BINARY_NAME" && break
  else
    echo "error: no download tool found, please install curl, wget or busybox wget" >> "${opts.logFile}"
    exit 127
  fi
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 20 ]; then
    echo "bootstrap: cannot download $BINARY_URL" >> "${opts.logFile}"
    exit 1
  fi
  sleep 0.5
done
chmod +x "$BINARY_NAME"
export CODER_AGENT_AUTH="${opts.auth}"
export CODER_AGENT_URL="${opts.accessUrl}"
${opts.metadataUrl ? `export CODER_AGENT_METADATA_URL="${opts.metadataUrl}"\n` : ""}echo "bootstrap: CODER_AGENT_NAME=\${CODER_AGENT_NAME-<unset>} CODER_AGENT_TOKEN=\${CODER_AGENT_TOKEN:+<set>}" >> "${opts.logFile}"
exec ./"$BINARY_NAME" agent --log-format json >> "${opts.logFile}" 2>&1
`;
  if (!opts.fuzz && script.includes("'")) throw new Error("bootstrap script must not contain a single quote");
  return script;
}

/**
 * The fuzz lines: a value with every quoting character, compared with what the shell got. When a quote
 * ends the string the script was pasted into, the shell that got the script runs only its first lines
 * and the pasting shell runs the rest: the rest then misses the variable the first line set.
 */
const FUZZ = (logFile: string) => `# provisioner e2e --fuzz-bootstrap: it's "quoted", has $HOME, \`uname\`, %{ if x } and \${y}
PROVISIONER_FUZZ='it'\\''s "quoted" $HOME \`uname\` %{ if x } \${y}'
if [ "\${PROVISIONER_BOOTSTRAP_HEAD-}" != ran ]; then
  echo "provisioner bootstrap: the init script was split before it ran: a quote in it ended the string it was pasted into, and the rest ran in the pasting shell (as its user): write it base64-encoded to a file and run the file" >> "${logFile}"
  exit 1
fi
if [ "$PROVISIONER_FUZZ" != "it's \\"quoted\\" \\$HOME \\\`uname\\\` %{ if x } \\\${y}" ]; then
  echo "provisioner bootstrap: the init script was altered before it ran (its quotes, \\$ or backquotes were interpreted on the way): write it base64-encoded to a file and run the file" >> "${logFile}"
  exit 1
fi
`;
