import { type Kysely, sql } from 'kysely';

const statements = [
  `create table users (
  id serial primary key,
  username text not null unique,
  role text not null check (role in ('admin', 'op', 'user', 'viewer')),
  password_hash text not null,
  created_at timestamptz not null,
  password_changed_at timestamptz not null
)`,
  `create table sessions (
  id_hash text primary key,
  user_id integer not null references users (id) on delete cascade,
  csrf_token text not null,
  created_at timestamptz not null,
  last_seen_at timestamptz not null,
  expires_at timestamptz not null,
  ip text,
  user_agent text
)`,
  `create index sessions_user on sessions (user_id)`,
  `create table api_tokens (
  id serial primary key,
  user_id integer not null references users (id) on delete cascade,
  name text not null,
  token_hash text not null unique,
  prefix text not null,
  created_at timestamptz not null,
  expires_at timestamptz,
  last_used_at timestamptz,
  unique (user_id, name)
)`,
  `create table audit_log (
  id bigserial primary key,
  at timestamptz not null,
  username text,
  via text not null,
  action text not null,
  target text,
  details jsonb not null,
  ip text,
  user_agent text,
  outcome text not null
)`,
  `create index audit_log_at on audit_log (at desc)`,
  // Live state events read the task instances changed since the last look.
  `create index task_instances_updated on task_instances (updated_at)`,
];

/** Web UI and REST API: users, sessions, API tokens, the audit log; an index for live updates. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
