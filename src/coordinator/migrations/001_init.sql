-- Users, with the prebuilds system user that owns unclaimed prebuilt workspaces.
CREATE TABLE users (
  id uuid PRIMARY KEY,
  username text NOT NULL UNIQUE,
  is_system boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO users (id, username, is_system) VALUES ('c42fdf75-3097-471c-8c33-fb52454d81c0', 'prebuilds', true);

CREATE TABLE workspaces (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  owner_id uuid NOT NULL REFERENCES users (id),
  deleted boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspaces_owner_id_idx ON workspaces (owner_id) WHERE NOT deleted;

CREATE TABLE provisioner_jobs (
  id uuid PRIMARY KEY,
  type text NOT NULL CHECK (type IN ('workspace_build', 'template_version_import', 'template_version_dry_run')),
  status text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'canceled')),
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  completed_at timestamptz
);

CREATE TABLE workspace_builds (
  id uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES workspaces (id),
  build_number integer NOT NULL,
  transition text NOT NULL CHECK (transition IN ('start', 'stop', 'delete')),
  initiator_id uuid NOT NULL REFERENCES users (id),
  job_id uuid NOT NULL UNIQUE REFERENCES provisioner_jobs (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (workspace_id, build_number)
);

CREATE TABLE workspace_resources (
  id uuid PRIMARY KEY,
  job_id uuid NOT NULL REFERENCES provisioner_jobs (id),
  type text NOT NULL,
  name text NOT NULL,
  instance_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspace_resources_job_id_idx ON workspace_resources (job_id);

-- Agents of a claim build keep the tokens of the prebuild's agents, so auth_token is not unique:
-- a token resolves to the agent of the newest build.
CREATE TABLE workspace_agents (
  id uuid PRIMARY KEY,
  resource_id uuid NOT NULL REFERENCES workspace_resources (id),
  name text NOT NULL,
  auth_type text NOT NULL,
  auth_token uuid NOT NULL,
  auth_instance_id text,
  parent_id uuid REFERENCES workspace_agents (id),
  os text NOT NULL DEFAULT 'linux',
  arch text NOT NULL DEFAULT 'amd64',
  apps jsonb NOT NULL DEFAULT '[]',
  scripts jsonb NOT NULL DEFAULT '[]',
  lifecycle_state text NOT NULL DEFAULT 'created',
  lifecycle_changed_at timestamptz,
  first_connected_at timestamptz,
  last_connected_at timestamptz,
  -- Prebuild-claimed reinit, per agent token: the owner it was last sent for, and the owner it
  -- re-initialised for (the sent owner, once the agent reports `starting` again). A reconnect gets no
  -- second event for the owner it already re-initialised for; a send that never arrived is repeated.
  reinit_sent_owner_id uuid,
  reinit_delivered_owner_id uuid,
  deleted boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX workspace_agents_auth_instance_id_idx ON workspace_agents (auth_instance_id) WHERE NOT deleted;
CREATE INDEX workspace_agents_auth_token_idx ON workspace_agents (auth_token);
CREATE INDEX workspace_agents_resource_id_idx ON workspace_agents (resource_id);

CREATE TABLE coordinator_settings (
  key text PRIMARY KEY,
  value text NOT NULL
);
