/**
 * Structural checks of the deployment files, where no tool can check them here: the
 * Dockerfile against hadolint-style rules (hadolint is not packaged by Debian), the
 * Compose file's services and health checks (CI also runs `docker-compose config`), and
 * the Terraform configuration (`terraform validate` needs provider downloads, which this
 * machine and CI cannot make): every taggable resource tagged with owner, env and
 * cost-center, every variable typed, described and listed in docs/deploy.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

describe('Dockerfile', () => {
  const lines = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const instructions = lines.map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
  const stages = instructions.filter((i) => i.keyword === 'FROM');

  it('is multi-stage, and every COPY --from names an earlier stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const names = stages.map((s) => /\bAS\s+(\S+)/i.exec(s.args)?.[1]);
    for (const copy of instructions.filter((i) => i.keyword === 'COPY')) {
      const from = /--from=(\S+)/.exec(copy.args)?.[1];
      if (from !== undefined) expect(names).toContain(from);
    }
  });

  it('pins its base image to a version, never latest', () => {
    const args = new Map(
      instructions
        .filter((i) => i.keyword === 'ARG')
        .map((i) => i.args.split('=') as [string, string]),
    );
    for (const stage of stages) {
      const image = stage.args.split(/\s+/)[0] ?? '';
      const resolved = image.replace(/^\$\{(\w+)\}$/, (_m, name: string) => args.get(name) ?? '');
      expect(resolved).toMatch(/^[\w./-]+:\d[\w.-]*$/);
      expect(resolved).not.toContain(':latest');
    }
  });

  it('runs as an unprivileged user, with exec-form ENTRYPOINT and CMD, and no ADD', () => {
    const finalStage = instructions.slice(instructions.lastIndexOf(stages.at(-1)!));
    const user = finalStage.filter((i) => i.keyword === 'USER').at(-1);
    expect(user?.args).toBeDefined();
    expect(['root', '0']).not.toContain(user?.args);
    for (const keyword of ['ENTRYPOINT', 'CMD']) {
      const instruction = finalStage.find((i) => i.keyword === keyword);
      expect(() => JSON.parse(instruction?.args ?? '')).not.toThrow();
    }
    expect(instructions.some((i) => i.keyword === 'ADD')).toBe(false);
    for (const run of instructions.filter((i) => /apt-get install/.test(i.args))) {
      expect(run.args).toContain('--no-install-recommends');
    }
  });
});

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
}

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };
  const services = compose.services;

  it('runs PostgreSQL, Redis, the web server, two schedulers and several workers', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining([
        'postgres',
        'redis',
        'webserver',
        'scheduler-1',
        'scheduler-2',
        'worker',
      ]),
    );
    expect(services.webserver?.command?.[0]).toBe('webserver');
    expect(services.worker?.command?.[0]).toBe('worker');
    expect(services.worker?.deploy?.replicas).toBeGreaterThanOrEqual(2);
  });

  it('gives every long-running service a health check', () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === 'migrate') continue;
      expect(service.healthcheck?.test, `${name} has a health check`).toBeDefined();
    }
  });

  it('configures the schedulers for the queue executor and keeps workers away from the store', () => {
    const ids = new Set<string>();
    for (const name of ['scheduler-1', 'scheduler-2']) {
      const env = services[name]?.environment ?? {};
      expect(env.UPDRAFT_EXECUTOR).toBe('queue');
      expect(env.UPDRAFT_DATABASE_URL).toMatch(/^postgres:\/\//);
      expect(env.UPDRAFT_QUEUE_SECRET).toBeDefined();
      ids.add(env.UPDRAFT_SCHEDULER_ID ?? '');
    }
    expect(ids.size).toBe(2);
    for (const [name, service] of Object.entries(services)) {
      if (service.command?.[0] !== 'worker') continue;
      expect(service.environment?.UPDRAFT_DATABASE_URL, `${name} has no store URL`).toBeUndefined();
      expect(service.environment?.UPDRAFT_QUEUE_SECRET, `${name} has no secret`).toBeUndefined();
      expect(service.environment?.UPDRAFT_REDIS_URL).toBeDefined();
    }
  });

  it('starts Redis with maxmemory-policy noeviction', () => {
    const command = services.redis?.command?.join(' ') ?? '';
    expect(command).toContain('--maxmemory-policy noeviction');
  });
});

/** `kind "type" "name" { body }` blocks of HCL text (braces balance inside strings too). */
function hclBlocks(text: string, kind: string): { labels: string[]; body: string }[] {
  const blocks: { labels: string[]; body: string }[] = [];
  const header = new RegExp(`^${kind}((?:\\s+"[^"]*")*)\\s*\\{`, 'gm');
  for (let match = header.exec(text); match !== null; match = header.exec(text)) {
    let depth = 1;
    let i = header.lastIndex;
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}') depth--;
    }
    const labels = [...(match[1] ?? '').matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? '');
    blocks.push({ labels, body: text.slice(header.lastIndex, i - 1) });
  }
  return blocks;
}

describe('deploy/terraform', () => {
  const dir = path.join(ROOT, 'deploy/terraform');
  const text = readdirSync(dir)
    .filter((file) => file.endsWith('.tf'))
    .map((file) => readFileSync(path.join(dir, file), 'utf8'))
    .join('\n');
  /** Resource types that take no tags. */
  const UNTAGGABLE = new Set([
    'aws_iam_role_policy',
    'aws_iam_role_policy_attachment',
    'aws_secretsmanager_secret_version',
    'aws_efs_mount_target',
    'random_password',
  ]);

  it('creates managed PostgreSQL, Redis that never evicts, and container services for every role', () => {
    const resources = hclBlocks(text, 'resource');
    const types = resources.map((r) => r.labels[0]);
    expect(types).toEqual(
      expect.arrayContaining([
        'aws_db_instance',
        'aws_elasticache_replication_group',
        'aws_ecs_service',
      ]),
    );
    const commands = [...text.matchAll(/command\s*=\s*\[\s*"(\w+)"/g)].map((m) => m[1]);
    expect(commands).toEqual(expect.arrayContaining(['webserver', 'scheduler', 'worker', 'db']));
    expect(text).toMatch(/name\s*=\s*"maxmemory-policy"\s*\n\s*value\s*=\s*"noeviction"/);
  });

  it('tags every resource that takes tags with owner, env and cost-center', () => {
    const locals = hclBlocks(text, 'locals')
      .map((b) => b.body)
      .join('\n');
    const tags = /tags\s*=\s*merge\(var\.extra_tags,\s*\{([^}]*)\}\)/.exec(locals)?.[1] ?? '';
    expect(tags).toMatch(/owner\s*=\s*var\.owner/);
    expect(tags).toMatch(/env\s*=\s*var\.env/);
    expect(tags).toMatch(/"cost-center"\s*=\s*var\.cost_center/);
    expect(text).toMatch(/default_tags\s*\{\s*tags\s*=\s*local\.tags/);
    const untagged = hclBlocks(text, 'resource')
      .filter((r) => !UNTAGGABLE.has(r.labels[0] ?? ''))
      .filter((r) => !/^\s*tags\s*=\s*(local\.tags|merge\(local\.tags\b)/m.test(r.body))
      .map((r) => r.labels.join('.'));
    expect(untagged).toEqual([]);
  });

  it('types and describes every variable, and docs/deploy.md lists each one', () => {
    const docs = read('docs/deploy.md');
    const variables = hclBlocks(text, 'variable');
    expect(variables.length).toBeGreaterThan(10);
    for (const { labels, body } of variables) {
      const name = labels[0] ?? '';
      expect(body, `variable ${name} has a description`).toMatch(
        /^\s*description\s*=\s*"[^"]{10,}"/m,
      );
      expect(body, `variable ${name} has a type`).toMatch(/^\s*type\s*=/m);
      expect(docs, `docs/deploy.md documents ${name}`).toContain(`\`${name}\``);
    }
  });
});
