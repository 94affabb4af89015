-- Scripts, logs, timings, app statuses, dev containers, user API keys (issue 12, SPEC §4–§8).

ALTER TABLE workspace_agents ADD COLUMN logs_length integer NOT NULL DEFAULT 0;
ALTER TABLE workspace_agents ADD COLUMN logs_overflowed boolean NOT NULL DEFAULT false;
ALTER TABLE workspace_agents ADD COLUMN started_at timestamptz;
ALTER TABLE workspace_agents ADD COLUMN ready_at timestamptz;
ALTER TABLE workspace_agents ADD COLUMN environment jsonb NOT NULL DEFAULT '{}';
-- coder_devcontainer resources of this agent: [{id, name, workspace_folder, config_path, subagent_id}].
ALTER TABLE workspace_agents ADD COLUMN devcontainers jsonb NOT NULL DEFAULT '[]';
-- Where the agent serves its own HTTP API (containers, dev containers); reported by the agent.
ALTER TABLE workspace_agents ADD COLUMN api_url text;

CREATE TABLE workspace_agent_log_sources (
  workspace_agent_id uuid NOT NULL REFERENCES workspace_agents (id),
  id uuid NOT NULL,
  display_name text NOT NULL,
  icon text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_agent_id, id)
);

-- No foreign key on agent_id: the insert runs in one statement with the UPDATE of the agent's
-- logs_length, which proves the agent exists; a per-row RI check halved the ingest rate on PGlite.
CREATE TABLE workspace_agent_logs (
  id bigserial PRIMARY KEY,
  agent_id uuid NOT NULL,
  created_at timestamptz NOT NULL,
  output text NOT NULL,
  level text NOT NULL CHECK (level IN ('trace', 'debug', 'info', 'warn', 'error')),
  log_source_id uuid NOT NULL
);
CREATE INDEX workspace_agent_logs_agent_id_idx ON workspace_agent_logs (agent_id, id);

CREATE TABLE provisioner_job_logs (
  id bigserial PRIMARY KEY,
  job_id uuid NOT NULL REFERENCES provisioner_jobs (id),
  created_at timestamptz NOT NULL,
  source text NOT NULL CHECK (source IN ('provisioner', 'provisioner_daemon')),
  level text NOT NULL CHECK (level IN ('trace', 'debug', 'info', 'warn', 'error')),
  stage text NOT NULL,
  output text NOT NULL
);
CREATE INDEX provisioner_job_logs_job_id_idx ON provisioner_job_logs (job_id, id);

CREATE TABLE provisioner_job_timings (
  job_id uuid NOT NULL REFERENCES provisioner_jobs (id),
  started_at timestamptz NOT NULL,
  ended_at timestamptz NOT NULL,
  stage text NOT NULL,
  source text NOT NULL,
  action text NOT NULL,
  resource text NOT NULL
);
CREATE INDEX provisioner_job_timings_job_id_idx ON provisioner_job_timings (job_id);

CREATE TABLE workspace_agent_script_timings (
  script_id uuid NOT NULL,
  agent_id uuid NOT NULL REFERENCES workspace_agents (id),
  started_at timestamptz NOT NULL,
  ended_at timestamptz NOT NULL,
  exit_code integer NOT NULL,
  stage text NOT NULL CHECK (stage IN ('start', 'stop', 'cron')),
  status text NOT NULL CHECK (status IN ('ok', 'exit_failure', 'timed_out', 'pipes_left_open'))
);
CREATE INDEX workspace_agent_script_timings_agent_id_idx ON workspace_agent_script_timings (agent_id, script_id, started_at);

CREATE TABLE workspace_app_statuses (
  id uuid PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  workspace_id uuid NOT NULL REFERENCES workspaces (id),
  agent_id uuid NOT NULL REFERENCES workspace_agents (id),
  app_id uuid NOT NULL,
  state text NOT NULL CHECK (state IN ('working', 'idle', 'complete', 'failure')),
  message text NOT NULL,
  uri text NOT NULL DEFAULT ''
);
CREATE INDEX workspace_app_statuses_workspace_id_idx ON workspace_app_statuses (workspace_id, created_at DESC);

-- Template versions (an import job each) and their dry runs, for the provisioner job log routes.
CREATE TABLE template_versions (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  job_id uuid NOT NULL UNIQUE REFERENCES provisioner_jobs (id),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE template_version_dry_runs (
  job_id uuid PRIMARY KEY REFERENCES provisioner_jobs (id),
  template_version_id uuid NOT NULL REFERENCES template_versions (id)
);

-- User session tokens, coderd's shape: "<id>-<secret>", only the secret's SHA-256 is stored.
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  hashed_secret text NOT NULL,
  user_id uuid NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);

-- Apps and scripts stored before this migration get the fields the agent JSON now carries (scripts'
-- `timeout_seconds` becomes the provider's `timeout`).
UPDATE workspace_agents SET
  apps = (SELECT coalesce(jsonb_agg(jsonb_build_object('icon', '', 'subdomain', false, 'share', 'owner', 'external', false, 'open_in', 'slim-window', 'hidden', false) || a), '[]'::jsonb) FROM jsonb_array_elements(apps) a),
  scripts = (SELECT coalesce(jsonb_agg(jsonb_build_object('icon', '', 'log_path', '', 'timeout', coalesce(s -> 'timeout_seconds', '0'::jsonb)) || (s - 'timeout_seconds')), '[]'::jsonb) FROM jsonb_array_elements(scripts) s)
WHERE apps <> '[]'::jsonb OR scripts <> '[]'::jsonb
