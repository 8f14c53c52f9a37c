/**
 * The REST API client of the UI: same-origin fetch with the session cookie, the CSRF
 * token on changes, and errors as `ApiError` (status, code, field, message).
 */
import type { ApiTokenInfo } from '../../src/auth/api-tokens.ts';
import type { AuditRecord } from '../../src/auth/audit-log.ts';
import type { Capability, Role } from '../../src/auth/roles.ts';
import type { UserInfo } from '../../src/auth/users.ts';
import type {
  AliasEvent,
  DatasetSummary,
  VersionDetail as FullVersionDetail,
  VersionSummary as FullVersionSummary,
} from '../../src/data/dataset-operations.ts';
import type { LineageGraph as Lineage } from '../../src/data/lineage.ts';
import type { DeadlineMiss } from '../../src/notify/deadline-misses.ts';
import type { OperationsReport, ReportFigures } from '../../src/observability/operations-report.ts';
import type {
  AttemptInfo,
  BackfillInfo,
  DagDetail,
  DagSummary,
  ImportErrorInfo,
  PoolInfo,
  RunDetail,
  RunSummary,
  TaskInstanceDetail,
} from '../../src/ops/operations.ts';
import type { MetricPoint } from '../../src/quality/anomaly.ts';
import type { CheckSpec } from '../../src/quality/check-spec.ts';
import type {
  MetricSummary,
  QualityResultDetail,
  QualityRunDetail,
  QualityRunSummary,
} from '../../src/quality/quality-operations.ts';
import type { GridData as Grid } from '../../src/store/queries/grid.ts';

/** Versions as the API sends them: without the server's folder. */
export type VersionSummary = Omit<FullVersionSummary, 'location'>;
export type VersionDetail = Omit<FullVersionDetail, 'location'>;

export type {
  AliasEvent,
  ApiTokenInfo,
  AttemptInfo,
  AuditRecord,
  BackfillInfo,
  Capability,
  CheckSpec,
  DagDetail,
  DagSummary,
  DatasetSummary,
  DeadlineMiss,
  Grid,
  ImportErrorInfo,
  Lineage,
  MetricPoint,
  MetricSummary,
  OperationsReport,
  PoolInfo,
  QualityResultDetail,
  QualityRunDetail,
  QualityRunSummary,
  ReportFigures,
  Role,
  RunDetail,
  RunSummary,
  TaskInstanceDetail,
  UserInfo,
};

export interface Me {
  username: string;
  role: Role;
  via: 'session' | 'token';
  capabilities: Capability[];
  csrfToken?: string;
}

export interface DagSource {
  dagId: string;
  fileloc: string;
  language: string;
  code: string;
}

export interface LogChunk {
  tryNumber: number;
  lines: string[];
  offset: number;
  nextOffset: number;
  size: number;
}

/** An error answer of the API. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

let csrfToken = '';
let onUnauthenticated: () => void = () => undefined;

/** Remembers the CSRF token of the session (from login or /auth/me). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token ?? '';
}

/** What to do when the session has ended (show the login page). */
export function setUnauthenticatedHandler(fn: () => void): void {
  onUnauthenticated = fn;
}

const BASE = 'api/v1';

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const e = (data ?? {}) as { code?: string; message?: string; field?: string };
    if (response.status === 401 && !path.startsWith('/auth/login')) onUnauthenticated();
    throw new ApiError(
      response.status,
      e.code ?? 'error',
      e.message ?? response.statusText,
      e.field,
    );
  }
  return data as T;
}

const enc = encodeURIComponent;
const q = (params: Record<string, string | number | boolean | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
};

/** Path of a task instance's API resource. */
export function taskPath(dagId: string, runId: string, taskId: string): string {
  return `/dags/${enc(dagId)}/runs/${enc(runId)}/tasks/${enc(taskId)}`;
}

export const api = {
  login: (username: string, password: string) =>
    request<Me>('POST', '/auth/login', { username, password }),
  logout: () => request<{ ok: true }>('POST', '/auth/logout', {}),
  me: () => request<Me>('GET', '/auth/me'),
  changePassword: (currentPassword: string, newPassword: string) =>
    request<Me>('POST', '/auth/password', { currentPassword, newPassword }),
  tokens: () => request<ApiTokenInfo[]>('GET', '/tokens'),
  createToken: (name: string, expiresInDays?: number) =>
    request<ApiTokenInfo & { token: string }>('POST', '/tokens', { name, expiresInDays }),
  revokeToken: (id: number) => request<{ ok: true }>('DELETE', `/tokens/${id}`),

  dags: () => request<DagSummary[]>('GET', '/dags'),
  importErrors: () => request<ImportErrorInfo[]>('GET', '/import-errors'),
  dag: (dagId: string) => request<DagDetail>('GET', `/dags/${enc(dagId)}`),
  source: (dagId: string) => request<DagSource>('GET', `/dags/${enc(dagId)}/source`),
  grid: (dagId: string, limit = 25) =>
    request<Grid>('GET', `/dags/${enc(dagId)}/grid${q({ limit })}`),
  setPaused: (dagId: string, isPaused: boolean) =>
    request<DagDetail>('PATCH', `/dags/${enc(dagId)}`, { isPaused }),
  trigger: (
    dagId: string,
    body: { params?: Record<string, unknown>; runId?: string; logicalDate?: string },
  ) => request<RunSummary>('POST', `/dags/${enc(dagId)}/runs`, body),
  runs: (dagId: string, limit = 25) =>
    request<RunSummary[]>('GET', `/dags/${enc(dagId)}/runs${q({ limit })}`),
  run: (dagId: string, runId: string) =>
    request<RunDetail>('GET', `/dags/${enc(dagId)}/runs/${enc(runId)}`),
  markRun: (dagId: string, runId: string, state: 'success' | 'failed') =>
    request<RunDetail>('POST', `/dags/${enc(dagId)}/runs/${enc(runId)}/mark`, { state }),
  clear: (
    dagId: string,
    runId: string,
    body: { taskIds?: string[]; downstream?: boolean; onlyFailed?: boolean },
  ) => request<{ cleared: string[] }>('POST', `/dags/${enc(dagId)}/runs/${enc(runId)}/clear`, body),
  task: (dagId: string, runId: string, taskId: string) =>
    request<TaskInstanceDetail>('GET', taskPath(dagId, runId, taskId)),
  markTask: (dagId: string, runId: string, taskId: string, state: 'success' | 'failed') =>
    request<TaskInstanceDetail>('POST', `${taskPath(dagId, runId, taskId)}/mark`, { state }),
  /** Part of a log: forwards from `offset`, or backwards from `before` or the end (`tail`). */
  log: (
    dagId: string,
    runId: string,
    taskId: string,
    tryNumber: number,
    window: { offset?: number; before?: number; tail?: boolean; maxBytes?: number },
  ) => request<LogChunk>('GET', `${taskPath(dagId, runId, taskId)}/logs/${tryNumber}${q(window)}`),
  backfill: (
    dagId: string,
    body: { from: string; to: string; reprocess?: string; maxActiveRuns?: number },
  ) => request<BackfillInfo>('POST', `/dags/${enc(dagId)}/backfills`, body),
  backfills: (dagId?: string) => request<BackfillInfo[]>('GET', `/backfills${q({ dagId })}`),
  cancelBackfill: (id: number) => request<BackfillInfo>('POST', `/backfills/${id}/cancel`, {}),
  pools: () => request<PoolInfo[]>('GET', '/pools'),
  setPool: (name: string, slots: number, description?: string) =>
    request<PoolInfo>('PUT', `/pools/${enc(name)}`, { slots, description }),
  users: () => request<UserInfo[]>('GET', '/users'),
  createUser: (username: string, role: Role, password: string) =>
    request<UserInfo>('POST', '/users', { username, role, password }),
  updateUser: (username: string, body: { role?: Role; password?: string }) =>
    request<UserInfo>('PATCH', `/users/${enc(username)}`, body),
  deleteUser: (username: string) => request<{ ok: true }>('DELETE', `/users/${enc(username)}`),
  audit: (filter: { username?: string; action?: string; beforeId?: number }) =>
    request<AuditRecord[]>('GET', `/audit${q({ ...filter, limit: 100 })}`),
  version: () => request<{ version: string }>('GET', '/version'),
  datasets: () => request<DatasetSummary[]>('GET', '/datasets'),
  datasetVersions: (name: string) =>
    request<VersionSummary[]>('GET', `/datasets/${enc(name)}/versions`),
  datasetVersion: (name: string, version: number) =>
    request<VersionDetail>('GET', `/datasets/${enc(name)}/versions/${version}`),
  lineage: (name: string) => request<Lineage>('GET', `/datasets/${enc(name)}/lineage`),
  aliasHistory: (name: string) =>
    request<AliasEvent[]>('GET', `/datasets/${enc(name)}/alias-history`),
  promote: (name: string, version: number, alias: string, reason?: string) =>
    request<unknown>('POST', `/datasets/${enc(name)}/promote`, { version, alias, reason }),
  rollback: (name: string, alias: string, reason?: string) =>
    request<unknown>('POST', `/datasets/${enc(name)}/rollback`, { alias, reason }),
  qualityRuns: (name: string, limit = 1000) =>
    request<QualityRunSummary[]>('GET', `/datasets/${enc(name)}/quality/runs${q({ limit })}`),
  versionQuality: (name: string, version: number, runId?: string) =>
    request<QualityRunDetail>(
      'GET',
      `/datasets/${enc(name)}/versions/${version}/quality${q({ runId })}`,
    ),
  qualityMetrics: (name: string) =>
    request<MetricSummary[]>('GET', `/datasets/${enc(name)}/quality/metrics`),
  metricHistory: (name: string, metric: string, limit = 200) =>
    request<MetricPoint[]>('GET', `/datasets/${enc(name)}/quality/history${q({ metric, limit })}`),
  deadlineMisses: (dagId: string, runId?: string) =>
    request<DeadlineMiss[]>('GET', `/dags/${enc(dagId)}/deadline-misses${q({ runId })}`),
  report: (since: string) => request<OperationsReport>('GET', `/reports/operations${q({ since })}`),
};

/** URL of an attempt's log download and live follow stream. */
export function logUrls(dagId: string, runId: string, taskId: string, tryNumber: number) {
  const base = `${BASE}${taskPath(dagId, runId, taskId)}/logs/${tryNumber}`;
  return {
    download: `${base}/download`,
    follow: (offset: number) => `${base}/follow?offset=${offset}`,
  };
}

/** URL of the live state event stream. */
export function eventsUrl(dagId?: string): string {
  return `${BASE}/events${dagId ? `?dagId=${enc(dagId)}` : ''}`;
}
