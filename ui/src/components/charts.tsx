/**
 * Small SVG charts drawn by React (no chart library, nothing but text and shapes): a
 * line of values with marked points (metric history, anomalies in red), bars (the daily
 * duration trend) and a sparkline. Each point or bar has a tooltip; the caller gives the
 * chart a label and shows what matters as text too.
 */
import { type ReactNode, type RefObject, useEffect, useId, useRef, useState } from 'react';

export interface ChartPoint {
  /** Label of the x position (e.g. `v12`, `2026-03-01`). */
  x: string;
  value: number;
  /** Marked (an anomaly). */
  marked?: boolean;
  /** Tooltip text. */
  title: string;
}

const M = { top: 14, right: 18, bottom: 30, left: 70 };

/** Tick steps for durations in ms: seconds, minutes, hours, days. */
export const DURATION_STEPS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400,
].map((s) => s * 1000);

/**
 * "Nice" tick values covering [min, max]: steps of 1, 2 or 5 × 10^n, or the first of
 * `steps` large enough.
 */
export function niceTicks(min: number, max: number, count = 5, steps?: number[]): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (min === max) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    return niceTicks(min - pad, max + pad, count, steps);
  }
  const raw = (max - min) / Math.max(1, count - 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step =
    steps?.find((s) => s >= raw) ?? ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  // From the step at or below min to the first step at or above max.
  for (let t = Math.floor(min / step) * step; ; t += step) {
    ticks.push(Number(t.toPrecision(12)));
    if (t >= max - step * 1e-9) break;
  }
  return ticks;
}

/** The width of `ref`'s element, kept up to date (`fallback` until it is measured). */
function useWidth(ref: RefObject<HTMLElement | null>, fallback: number): number {
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(240, Math.floor(el.clientWidth)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

/** Every n-th label so that at most `max` show. */
function labelStep(n: number, max: number): number {
  return Math.max(1, Math.ceil(n / max));
}

/** The SVG of a chart at its container's width, with horizontal grid lines and y labels. */
function ChartFrame({
  box,
  width,
  height,
  label,
  ticks,
  y,
  formatY,
  children,
}: {
  box: RefObject<HTMLDivElement | null>;
  width: number;
  height: number;
  label: string;
  ticks: number[];
  y: (value: number) => number;
  formatY: (value: number) => string;
  children: ReactNode;
}) {
  return (
    <div ref={box} className="chart-box">
      <svg className="chart" width={width} height={height} role="img" aria-label={label}>
        {ticks.map((t) => (
          <g key={t}>
            <line className="grid-line" x1={M.left} x2={width - M.right} y1={y(t)} y2={y(t)} />
            <text className="axis" x={M.left - 8} y={y(t) + 4} textAnchor="end">
              {formatY(t)}
            </text>
          </g>
        ))}
        {children}
      </svg>
    </div>
  );
}

/** Values along a line, one dot per point; marked points are drawn larger in red. */
export function LineChart({
  points,
  label,
  formatY = (v) => v.toLocaleString('en-US'),
  height = 220,
}: {
  points: ChartPoint[];
  label: string;
  formatY?: (value: number) => string;
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const width = useWidth(box, 720);
  const values = points.map((p) => p.value);
  const ticks = niceTicks(Math.min(...values, 0), Math.max(...values));
  const lo = ticks[0] ?? 0;
  const hi = ticks.at(-1) ?? 1;
  const innerW = width - M.left - M.right;
  const innerH = height - M.top - M.bottom;
  const x = (i: number) =>
    M.left + (points.length === 1 ? innerW / 2 : (i / (points.length - 1)) * innerW);
  const y = (v: number) => M.top + innerH - ((v - lo) / (hi - lo || 1)) * innerH;
  const every = labelStep(points.length, Math.max(2, Math.floor(innerW / 60)));
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i)},${y(p.value)}`).join(' ');
  return (
    <ChartFrame
      box={box}
      width={width}
      height={height}
      label={label}
      ticks={ticks}
      y={y}
      formatY={formatY}
    >
      {points.map((p, i) =>
        i % every === 0 || i === points.length - 1 ? (
          <text key={p.x} className="axis" x={x(i)} y={height - 10} textAnchor="middle">
            {p.x}
          </text>
        ) : null,
      )}
      <path className="series" d={path} />
      {points.map((p, i) => (
        <circle
          key={p.x}
          className={p.marked ? 'point marked' : 'point'}
          cx={x(i)}
          cy={y(p.value)}
          r={p.marked ? 6 : points.length > 60 ? 2 : 3.5}
        >
          <title>{p.title}</title>
        </circle>
      ))}
    </ChartFrame>
  );
}

/** One bar per point, from zero. */
export function BarChart({
  points,
  label,
  formatY,
  steps,
  height = 180,
}: {
  points: ChartPoint[];
  label: string;
  formatY: (value: number) => string;
  /** Tick steps to choose from (e.g. `DURATION_STEPS`). */
  steps?: number[];
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const width = useWidth(box, 720);
  const ticks = niceTicks(0, Math.max(...points.map((p) => p.value), 1), 4, steps);
  const hi = ticks.at(-1) ?? 1;
  const innerW = width - M.left - M.right;
  const innerH = height - M.top - M.bottom;
  const slot = innerW / Math.max(1, points.length);
  const barW = Math.max(2, Math.min(36, slot * 0.7));
  const y = (v: number) => M.top + innerH - (v / hi) * innerH;
  const every = labelStep(points.length, Math.max(2, Math.floor(innerW / 60)));
  return (
    <ChartFrame
      box={box}
      width={width}
      height={height}
      label={label}
      ticks={ticks}
      y={y}
      formatY={formatY}
    >
      {points.map((p, i) => {
        const cx = M.left + slot * i + slot / 2;
        return (
          <g key={p.x}>
            <rect
              className={p.marked ? 'bar marked' : 'bar'}
              x={cx - barW / 2}
              y={y(p.value)}
              width={barW}
              height={Math.max(2, M.top + innerH - y(p.value))}
              rx={2}
            >
              <title>{p.title}</title>
            </rect>
            {(i % every === 0 || i === points.length - 1) && (
              <text className="axis" x={cx} y={height - 10} textAnchor="middle">
                {p.x}
              </text>
            )}
          </g>
        );
      })}
    </ChartFrame>
  );
}

/** A tiny line of values (a trend in a table cell). */
export function Sparkline({ values, label }: { values: number[]; label: string }) {
  const id = useId();
  const width = 96;
  const height = 24;
  if (values.length === 0) return <span className="muted">—</span>;
  const hi = Math.max(...values);
  const lo = Math.min(...values);
  const x = (i: number) =>
    values.length === 1 ? width / 2 : 2 + (i / (values.length - 1)) * (width - 4);
  const y = (v: number) => height - 3 - ((v - lo) / (hi - lo || 1)) * (height - 6);
  const line = values.map((v, i) => `${x(i)},${y(v)}`).join(' ');
  return (
    <svg className="sparkline" width={width} height={height} role="img" aria-labelledby={id}>
      <title id={id}>{label}</title>
      <polyline points={line} />
      <circle cx={x(values.length - 1)} cy={y(values.at(-1) ?? 0)} r={2.5} />
    </svg>
  );
}
