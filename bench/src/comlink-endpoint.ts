// Loads comlink's Node adapter (`comlink/dist/esm/node-adapter`), which ships without an exports
// map or a .d.mts, so it is imported at run time and typed by hand from its .d.ts.

import type { Endpoint } from 'comlink';
import type { NodeEndpoint } from 'comlink/dist/esm/node-adapter.js';

/** comlink's `nodeEndpoint`: turns a `Worker` or `parentPort` into a comlink endpoint. */
export type NodeEndpointFactory = (endpoint: NodeEndpoint) => Endpoint;

const ADAPTER = 'comlink/dist/esm/node-adapter.mjs';

/** Imports comlink's Node adapter. */
export async function loadNodeEndpoint(): Promise<NodeEndpointFactory> {
  const adapter = (await import(ADAPTER)) as { default: NodeEndpointFactory };
  return adapter.default;
}
