// Loads node:wasi without letting its ExperimentalWarning reach the user's terminal:
// the warning is about Node's API, not about anything the user did.

import type { WASI } from 'node:wasi';

export async function loadWasi(): Promise<typeof WASI> {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- put back as it was, called with .call(this)
  const emitWarning = process.emitWarning;
  process.emitWarning = function filtered(this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
    const text = typeof warning === 'string' ? warning : warning.message;
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const name = typeof warning === 'string' ? type : warning.name;
    if (name === 'ExperimentalWarning' && /WASI/.test(text)) return;
    (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
  };
  try {
    return (await import('node:wasi')).WASI;
  } finally {
    process.emitWarning = emitWarning;
  }
}
