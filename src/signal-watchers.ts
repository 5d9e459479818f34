// One 'abort' listener per AbortSignal, however many queued calls share it: a listener per call made
// Node warn (MaxListenersExceededWarning) past ten calls and kept every call reachable from the signal.

type Watcher = () => void;

interface Watched {
  readonly listener: () => void;
  readonly watchers: Set<Watcher>;
}

const watched = new WeakMap<AbortSignal, Watched>();

/**
 * Runs `onAbort` if `signal` fires before the returned function is called. The signal's one listener
 * is added with its first watcher and removed with its last.
 */
export function watchSignal(signal: AbortSignal, onAbort: Watcher): () => void {
  let entry = watched.get(signal);
  if (entry === undefined) {
    const watchers = new Set<Watcher>();
    const listener = (): void => {
      watched.delete(signal);
      // A copy: each watcher stops watching as it runs.
      for (const watcher of [...watchers]) watcher();
    };
    entry = { listener, watchers };
    watched.set(signal, entry);
    signal.addEventListener('abort', listener, { once: true });
  }
  const current = entry;
  // Wrapped, so that one function watching twice counts as two watchers.
  const watcher: Watcher = () => onAbort();
  current.watchers.add(watcher);
  return () => {
    if (!current.watchers.delete(watcher) || current.watchers.size > 0) return;
    // Once the signal fired, its entry is gone and its `once` listener with it.
    if (watched.get(signal) !== current) return;
    watched.delete(signal);
    signal.removeEventListener('abort', current.listener);
  };
}
