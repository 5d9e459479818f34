// The pool's session directory: key → the one live handle for it, until that handle is closed.

import type { Session } from './session.js';

export class SessionDirectory {
  readonly #sessions = new Map<string, Session>();
  /** Keys whose last session is closing: resolves once it has closed. */
  readonly #closing = new Map<string, Promise<void>>();
  /** Told when a session is removed (its close begins), with the promise of its close. */
  readonly #onRemove: ((session: Session, closed: Promise<void>) => void) | undefined;

  constructor(onRemove?: (session: Session, closed: Promise<void>) => void) {
    this.#onRemove = onRemove;
  }

  /** Sessions not closed. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Every session not closed. */
  all(): IterableIterator<Session> {
    return this.#sessions.values();
  }

  get(key: string): Session | undefined {
    return this.#sessions.get(key);
  }

  add(session: Session): void {
    this.#sessions.set(session.key, session);
  }

  /**
   * `session` was closed: its key is free for a new handle, whose operations wait for `closed` (the
   * old session's held operations run first, and its stored snapshot is gone before the new one's).
   */
  remove(session: Session, closed: Promise<void>): void {
    if (this.#sessions.get(session.key) !== session) return;
    this.#sessions.delete(session.key);
    const done = closed.then(() => {
      if (this.#closing.get(session.key) === done) this.#closing.delete(session.key);
    });
    this.#closing.set(session.key, done);
    this.#onRemove?.(session, closed);
  }

  /** What a new session of `key` waits for: its previous session's close, if that is still under way. */
  closingOf(key: string): Promise<void> | undefined {
    return this.#closing.get(key);
  }
}
