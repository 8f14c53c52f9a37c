/** Arrows between the nodes of a laid-out graph (the DAG graph and the lineage graph). */

/** Defines the arrowhead marker `id` (place once inside the `<svg>`). */
export function ArrowMarker({ id }: { id: string }) {
  return (
    <defs>
      <marker
        id={id}
        viewBox="0 0 10 10"
        refX="10"
        refY="5"
        markerWidth="7"
        markerHeight="7"
        orient="auto"
      >
        <path d="M0,0 L10,5 L0,10 z" className="arrow" />
      </marker>
    </defs>
  );
}

/** One edge as a polyline through dagre's points, ending in the marker `markerId`. */
export function Edge({
  points,
  markerId,
}: {
  points: { x: number; y: number }[];
  markerId: string;
}) {
  return (
    <polyline
      className="edge"
      points={points.map((p) => `${p.x},${p.y}`).join(' ')}
      markerEnd={`url(#${markerId})`}
    />
  );
}
