/** Formatting of dates and durations for display. */

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null || Number.isNaN(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const total = Math.round(s);
  const m = Math.floor(total / 60);
  const sec = total % 60;
  if (m < 60) return sec ? `${m} min ${sec} s` : `${m} min`;
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${Math.floor(m / 60)} h`;
}

export function durationBetween(start: string | null, end: string | null): number | null {
  if (!start) return null;
  return (end ? new Date(end).getTime() : Date.now()) - new Date(start).getTime();
}

/** "in 5 min" / "3 min ago". */
export function relative(iso: string | null): string {
  if (!iso) return '—';
  const diff = new Date(iso).getTime() - Date.now();
  const text = formatDuration(Math.abs(diff));
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
