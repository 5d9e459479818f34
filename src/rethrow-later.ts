// How the pool surfaces an application's error (a throwing event listener or output callback):
// as an uncaught exception, the way Node surfaces a throwing listener, but only after the pool has done its work.

export function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
