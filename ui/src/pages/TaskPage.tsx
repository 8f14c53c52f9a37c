/**
 * A task instance: every try, and the selected try's log with live follow (while the
 * attempt runs), search and download.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { formatLogLine } from '../../../src/cli/log-format.ts';
import { api, logUrls, type Me } from '../api.ts';
import { ErrorNote, StateBadge } from '../components/common.tsx';
import { DeadlineNotes, lateText } from '../components/deadlines.tsx';
import { durationBetween, formatDate, formatDuration } from '../format.ts';
import { useLiveChanges, useLoad } from '../hooks.ts';
import { href, type Route } from '../router.ts';

const plain = (_colour: string, text: string) => text;
/** Bytes of log fetched at a time (about 5,000 lines). */
const CHUNK = 1024 * 1024;
const LEVEL = /^\S*\s*(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\b/;

export function TaskPage({
  dagId,
  runId,
  taskId,
  route,
}: {
  dagId: string;
  runId: string;
  taskId: string;
  route: Route;
  me: Me;
}) {
  const [version, setVersion] = useState(0);
  const ti = useLoad(
    () => api.task(dagId, runId, taskId),
    `${dagId}/${runId}/${taskId}/${version}`,
  );
  const misses = useLoad(
    () => api.deadlineMisses(dagId, runId),
    `misses:${dagId}/${runId}/${version}`,
  );
  const miss = misses.data?.find((m) => m.taskId === taskId);
  useLiveChanges(dagId, () => setVersion((v) => v + 1));
  const t = ti.data;
  const tryParam = Number(route.query.get('try'));
  const tryNumber = tryParam > 0 ? tryParam : (t?.attempts.at(-1)?.tryNumber ?? 0);
  const attempt = t?.attempts.find((a) => a.tryNumber === tryNumber);
  const running = attempt !== undefined && attempt.endedAt === null;
  return (
    <div className="page">
      <div className="page-head">
        <a href="#/" className="muted">
          DAGs /
        </a>
        <a href={href(['dags', dagId])} className="muted">
          {dagId} /
        </a>
        <a href={href(['dags', dagId], { run: runId })} className="muted mono">
          {runId} /
        </a>
        <h1 className="mono">{taskId}</h1>
        {t && <StateBadge state={t.state} />}
        {miss && (
          <span className="badge late-badge" title={lateText(miss)}>
            deadline missed
          </span>
        )}
        <span className="spacer" />
        <a className="button" href={href(['dags', dagId], { run: runId, task: taskId })}>
          Back to the grid
        </a>
      </div>
      <ErrorNote error={ti.error} />
      <DeadlineNotes misses={miss ? [miss] : []} />
      {t && t.attempts.length === 0 && (
        <p className="muted">This task has not run yet (state {t.state}).</p>
      )}
      {t && t.attempts.length > 0 && (
        <>
          <div className="tabs" role="tablist" aria-label="attempts">
            {t.attempts.map((a) => (
              <a
                key={a.tryNumber}
                role="tab"
                aria-selected={a.tryNumber === tryNumber}
                href={href(['dags', dagId, 'runs', runId, 'tasks', taskId], { try: a.tryNumber })}
              >
                Try {a.tryNumber} <StateBadge state={a.state} />
              </a>
            ))}
          </div>
          {attempt && (
            <div className="attempt-facts small">
              <span>exit {attempt.exitReason ?? '—'}</span>
              <span>started {formatDate(attempt.startedAt)}</span>
              <span>
                took {formatDuration(durationBetween(attempt.startedAt, attempt.endedAt))}
              </span>
              <span>
                {attempt.hostname ?? '—'} pid {attempt.pid ?? '—'}
              </span>
              {attempt.error && <span className="error-text">error: {attempt.error}</span>}
            </div>
          )}
          {tryNumber > 0 && (
            <LogViewer
              key={`${tryNumber}`}
              dagId={dagId}
              runId={runId}
              taskId={taskId}
              tryNumber={tryNumber}
              running={running}
            />
          )}
        </>
      )}
    </div>
  );
}

function LogViewer({
  dagId,
  runId,
  taskId,
  tryNumber,
  running,
}: {
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  running: boolean;
}) {
  const [lines, setLines] = useState<string[]>([]);
  const [error, setError] = useState<Error>();
  const [search, setSearch] = useState('');
  const [following, setFollowing] = useState(false);
  /** Byte offset where the lines shown begin (0: the whole log is shown). */
  const [start, setStart] = useState(0);
  const loadEarlier = () => {
    api.log(dagId, runId, taskId, tryNumber, { before: start, maxBytes: CHUNK }).then((chunk) => {
      setStick(false);
      setLines((prev) => [...chunk.lines, ...prev]);
      setStart(chunk.offset);
    }, setError);
  };
  const [stick, setStick] = useState(true);
  const box = useRef<HTMLDivElement>(null);
  const urls = logUrls(dagId, runId, taskId, tryNumber);

  // biome-ignore lint/correctness/useExhaustiveDependencies: reload only for another attempt or when it starts running
  useEffect(() => {
    let stopped = false;
    let source: EventSource | null = null;
    (async () => {
      // The end of the log first; earlier parts on demand ("Load earlier lines").
      const tail = await api.log(dagId, runId, taskId, tryNumber, { tail: true, maxBytes: CHUNK });
      if (stopped) return;
      setLines(tail.lines);
      setStart(tail.offset);
      const offset = tail.nextOffset;
      if (!running) return;
      setFollowing(true);
      source = new EventSource(urls.follow(offset));
      source.addEventListener('lines', (e) => {
        const data = JSON.parse((e as MessageEvent<string>).data) as { lines: string[] };
        setLines((prev) => [...prev, ...data.lines]);
      });
      source.addEventListener('end', () => {
        source?.close();
        setFollowing(false);
      });
    })().catch((e: Error) => setError(e));
    return () => {
      stopped = true;
      source?.close();
    };
  }, [dagId, runId, taskId, tryNumber, running]);

  const formatted = useMemo(() => lines.map((l) => formatLogLine(l, plain)), [lines]);
  const needle = search.toLowerCase();
  const shown = needle ? formatted.filter((l) => l.toLowerCase().includes(needle)) : formatted;

  useEffect(() => {
    if (stick && box.current) box.current.scrollTop = box.current.scrollHeight;
  });

  return (
    <div className="log-viewer">
      <div className="log-tools">
        <input
          type="search"
          placeholder="Search the log"
          aria-label="search the log"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <span className="muted small">
          {needle ? `${shown.length} of ${formatted.length} lines` : `${formatted.length} lines`}
        </span>
        {following && <span className="live on">● following</span>}
        <label className="check small">
          <input type="checkbox" checked={stick} onChange={(e) => setStick(e.target.checked)} />{' '}
          keep at the end
        </label>
        <span className="spacer" />
        <a className="button" href={urls.download} download>
          Download
        </a>
      </div>
      <ErrorNote error={error} />
      {start > 0 && (
        <button type="button" className="load-earlier" onClick={loadEarlier}>
          Load earlier lines ({Math.ceil(start / 1024)} KiB before these)
        </button>
      )}
      <div
        className="log"
        role="log"
        ref={box}
        data-testid="log"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling log must be reachable by keyboard
        tabIndex={0}
        aria-label="log lines"
      >
        {shown.map((line, i) => {
          const level = LEVEL.exec(line)?.[1]?.toLowerCase() ?? 'plain';
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: log lines are positional
            <div key={i} className={`log-line level-${level}`}>
              {needle ? highlight(line, needle) : line}
            </div>
          );
        })}
        {formatted.length === 0 && (
          <div className="muted">{following ? 'waiting for output…' : 'the log is empty'}</div>
        )}
      </div>
    </div>
  );
}

function highlight(line: string, needle: string) {
  const out: (string | React.ReactElement)[] = [];
  const lower = line.toLowerCase();
  let at = 0;
  for (let i = lower.indexOf(needle); i >= 0; i = lower.indexOf(needle, at)) {
    out.push(line.slice(at, i), <mark key={i}>{line.slice(i, i + needle.length)}</mark>);
    at = i + needle.length;
  }
  out.push(line.slice(at));
  return out;
}
