/**
 * Process groups started by operators in this process. A shell command runs as the
 * leader of its own group so that cancelling it kills everything it started. Groups are
 * tracked so that a worker can tell its parent which groups to kill should the worker
 * itself die (a SIGKILL does not reach a detached group), and kill them when it exits.
 */

type GroupObserver = (pgid: number, alive: boolean) => void;

const live = new Set<number>();
let observer: GroupObserver | undefined;

/** Records a live process group (its leader's pid); returns the function that forgets it. */
export function trackProcessGroup(pgid: number): () => void {
  live.add(pgid);
  observer?.(pgid, true);
  return () => {
    if (live.delete(pgid)) observer?.(pgid, false);
  };
}

/** Registers the single observer of group changes (the worker forwarding them to its parent). */
export function observeProcessGroups(fn: GroupObserver): void {
  observer = fn;
}

/**
 * Sends `signal` to every process of group `pgid`. Returns false when the group is
 * gone (ESRCH) or not ours to signal (EPERM: the id was reused).
 */
export function killProcessGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to every tracked group (a worker about to exit). */
export function killTrackedProcessGroups(signal: NodeJS.Signals): void {
  for (const pgid of live) killProcessGroup(pgid, signal);
}
