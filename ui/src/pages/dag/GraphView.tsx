/**
 * The Graph: tasks laid out left to right by dagre, coloured by their state in the
 * selected run. Task groups are boxes; a click on a group's title collapses it into
 * one node (coloured by the worst state inside) and back.
 */
import dagre from '@dagrejs/dagre';
import { useMemo, useState } from 'react';
import type { DagDetail, RunDetail } from '../../api.ts';
import { ArrowMarker, Edge } from '../../components/svg-edges.tsx';

const NODE_W = 170;
const NODE_H = 34;
const ORDER = [
  'failed',
  'upstream_failed',
  'up_for_retry',
  'running',
  'queued',
  'scheduled',
  'none',
  'skipped',
  'success',
];

interface Spec {
  tasks: { taskId: string; upstream: string[]; group: string | null; operator: string }[];
  groups: { groupId: string; parent: string | null }[];
}

export function GraphView({
  dag,
  run,
  onSelectTask,
  selectedTask,
}: {
  dag: DagDetail;
  run: RunDetail | undefined;
  onSelectTask: (taskId: string) => void;
  selectedTask: string | undefined;
}) {
  const spec = dag.spec as unknown as Spec;
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const states = useMemo(() => new Map(run?.tasks.map((t) => [t.taskId, t.state]) ?? []), [run]);
  const layout = useMemo(() => computeLayout(spec, collapsed), [spec, collapsed]);
  const toggle = (g: string) => {
    const next = new Set(collapsed);
    if (next.has(g)) next.delete(g);
    else next.add(g);
    setCollapsed(next);
  };
  const stateOf = (id: string, isGroup: boolean) => {
    if (!isGroup) return states.get(id) ?? 'none';
    const inside = spec.tasks
      .filter((t) => t.taskId.startsWith(`${id}.`))
      .map((t) => states.get(t.taskId) ?? 'none');
    return ORDER.find((s) => inside.includes(s as never)) ?? 'none';
  };
  return (
    <div className="graph" data-testid="graph">
      <svg
        width={layout.width}
        height={layout.height}
        role="img"
        aria-label={`graph of ${dag.dagId}`}
      >
        <ArrowMarker id="arrow" />
        {layout.clusters.map((c) => (
          <g key={c.id} className="cluster">
            <rect x={c.x} y={c.y} width={c.width} height={c.height} rx={8} />
            {/* biome-ignore lint/a11y/useSemanticElements: SVG has no <button> */}
            <g
              role="button"
              tabIndex={0}
              aria-label={`collapse group ${c.id}`}
              onClick={() => toggle(c.id)}
              onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && toggle(c.id)}
            >
              <text x={c.x + 10} y={c.y + 18} className="cluster-title">
                ▾ {c.id}
              </text>
            </g>
          </g>
        ))}
        {layout.edges.map((e) => (
          <Edge key={`${e.from}->${e.to}`} points={e.points} markerId="arrow" />
        ))}
        {layout.nodes.map((n) => {
          const state = stateOf(n.id, n.isGroup);
          return (
            // biome-ignore lint/a11y/useSemanticElements: SVG has no <button>
            <g
              key={n.id}
              className={`node state-${state}${n.id === selectedTask ? ' selected' : ''}`}
              transform={`translate(${n.x - NODE_W / 2},${n.y - NODE_H / 2})`}
              tabIndex={0}
              role="button"
              aria-label={`${n.isGroup ? 'group' : 'task'} ${n.id}: ${state}`}
              onClick={() => (n.isGroup ? toggle(n.id) : onSelectTask(n.id))}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ')
                  n.isGroup ? toggle(n.id) : onSelectTask(n.id);
              }}
            >
              <rect width={NODE_W} height={NODE_H} rx={6} className="node-box" />
              <rect width={6} height={NODE_H} rx={3} className="node-state" />
              <text x={14} y={15} className="node-label">
                {n.isGroup ? `▸ ${n.id}` : shorten(n.id.slice(n.id.lastIndexOf('.') + 1))}
              </text>
              <text x={14} y={28} className="node-sub">
                {n.isGroup
                  ? 'group (click to expand)'
                  : `${n.operator} · ${state.replace('_', ' ')}`}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

function shorten(text: string): string {
  return text.length > 22 ? `${text.slice(0, 21)}…` : text;
}

interface Layout {
  width: number;
  height: number;
  nodes: { id: string; x: number; y: number; isGroup: boolean; operator: string }[];
  edges: { from: string; to: string; points: { x: number; y: number }[] }[];
  clusters: { id: string; x: number; y: number; width: number; height: number }[];
}

function computeLayout(spec: Spec, collapsed: Set<string>): Layout {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: false });
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 50, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  /** The node that stands for a task: itself, or its outermost collapsed group. */
  const nodeOf = (taskId: string): string => {
    const parts = taskId.split('.');
    for (let i = 1; i < parts.length; i++) {
      const group = parts.slice(0, i).join('.');
      if (collapsed.has(group)) return group;
    }
    return taskId;
  };
  const visibleGroups = spec.groups.filter((gr) => nodeOf(`${gr.groupId}.x`) === `${gr.groupId}.x`);
  for (const gr of visibleGroups)
    g.setNode(`cluster:${gr.groupId}`, { label: gr.groupId, paddingTop: 24 });
  for (const gr of visibleGroups) {
    if (gr.parent && visibleGroups.some((p) => p.groupId === gr.parent))
      g.setParent(`cluster:${gr.groupId}`, `cluster:${gr.parent}`);
  }
  const operators = new Map<string, string>();
  for (const t of spec.tasks) {
    const id = nodeOf(t.taskId);
    operators.set(id, id === t.taskId ? t.operator : 'group');
    if (!g.hasNode(id)) g.setNode(id, { width: NODE_W, height: NODE_H });
    const parent =
      id === t.taskId ? t.group : (spec.groups.find((gr) => gr.groupId === id)?.parent ?? null);
    if (parent && visibleGroups.some((gr) => gr.groupId === parent))
      g.setParent(id, `cluster:${parent}`);
  }
  for (const t of spec.tasks) {
    for (const u of t.upstream) {
      const from = nodeOf(u);
      const to = nodeOf(t.taskId);
      if (from !== to) g.setEdge(from, to);
    }
  }
  dagre.layout(g);
  const graph = g.graph();
  const nodes: Layout['nodes'] = [];
  const clusters: Layout['clusters'] = [];
  for (const id of g.nodes()) {
    const n = g.node(id);
    if (id.startsWith('cluster:')) {
      clusters.push({
        id: id.slice(8),
        x: n.x - n.width / 2,
        y: n.y - n.height / 2,
        width: n.width,
        height: n.height,
      });
    } else {
      nodes.push({
        id,
        x: n.x,
        y: n.y,
        isGroup: collapsed.has(id),
        operator: operators.get(id) ?? '',
      });
    }
  }
  const edges = g.edges().map((e) => ({ from: e.v, to: e.w, points: g.edge(e).points ?? [] }));
  return {
    width: (graph.width ?? 400) + 20,
    height: (graph.height ?? 200) + 20,
    nodes,
    edges,
    clusters,
  };
}
