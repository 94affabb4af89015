/**
 * Stands in for `coder_agent.<name>.init_script` (coderd's linux bootstrap): download the agent
 * from the coordinator, export its auth and URL, run `coder agent`. It must never contain a single
 * quote: templates paste it into `sh -c '…'`.
 */
export function bootstrapScript(opts: {
  agent: string;
  arch: string;
  auth: string;
  accessUrl: string;
  /** This instance's fake metadata service (instance-identity agents). */
  metadataUrl?: string;
  /** Where e2e collects this agent's log (besides wherever the template redirects it). */
  logFile: string;
}): string {
  const script = `#!/usr/bin/env sh
# provisioner e2e bootstrap for agent ${opts.agent} (in place of coder_agent.${opts.agent}.init_script)
set -eu
echo "bootstrap: starting agent ${opts.agent}" >> "${opts.logFile}"
BINARY_DIR=$(mktemp -d -t coder.XXXXXX)
BINARY_URL="${opts.accessUrl}bin/coder-linux-${opts.arch}"
cd "$BINARY_DIR"
attempt=0
while :; do
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL "$BINARY_URL" -o coder && break
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O coder "$BINARY_URL" && break
  else
    echo "bootstrap: neither curl nor wget is installed" >> "${opts.logFile}"
    exit 1
  fi
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 20 ]; then
    echo "bootstrap: cannot download $BINARY_URL" >> "${opts.logFile}"
    exit 1
  fi
  sleep 0.5
done
chmod +x coder
export CODER_AGENT_AUTH="${opts.auth}"
export CODER_AGENT_URL="${opts.accessUrl}"
${opts.metadataUrl ? `export CODER_AGENT_METADATA_URL="${opts.metadataUrl}"\n` : ""}./coder agent --log-format json 2>&1 | tee -a "${opts.logFile}"
`;
  if (script.includes("'")) throw new Error("bootstrap script must not contain a single quote");
  return script;
}
