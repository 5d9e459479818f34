// The pool's session directory: key → the one live handle for it, until that handle is closed.

import type { Session } from './session.js';

export class SessionDirectory {
  readonly #sessions = new Map<string, Session>();

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

  /** `session` was closed: its key is free for a new handle. */
  remove(session: Session): void {
    if (this.#sessions.get(session.key) === session) this.#sessions.delete(session.key);
  }
}
