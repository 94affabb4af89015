/**
 * What `coder_agent.<name>.init_script` is during an e2e run: coderd's Linux bootstrap (download the
 * agent from the access URL, export its auth and URL, `exec ./coder agent`), plus the metadata URL of
 * the instance's fake IMDS and a copy of the agent's output for the report. Like coderd's, it never
 * contains a single quote: templates paste it into `sh -c '…'`.
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
}): string {
  const script = `#!/usr/bin/env sh
# coder_agent.${opts.agent}.init_script (provisioner e2e: the coderd bootstrap for linux/${opts.arch})
set -eu
mkdir -p "$(dirname "${opts.logFile}")"
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
  if (script.includes("'")) throw new Error("bootstrap script must not contain a single quote");
  return script;
}
