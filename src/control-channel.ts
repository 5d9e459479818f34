// The control channel's transport: comlink over a worker MessagePort. comlink ships its Node adapter
// (`comlink/dist/esm/node-adapter.mjs`) without an exports entry or types of its own, so it is loaded here once.

import type { MessagePort } from 'node:worker_threads';
import type { Endpoint } from 'comlink';

type NodeEndpointFactory = (port: MessagePort) => Endpoint;

const ADAPTER = 'comlink/dist/esm/node-adapter.mjs';
let factory: Promise<NodeEndpointFactory> | undefined;

/** `port` as a comlink endpoint. */
export async function nodeEndpoint(port: MessagePort): Promise<Endpoint> {
  factory ??= import(ADAPTER).then((adapter: { default: NodeEndpointFactory }) => adapter.default);
  return (await factory)(port);
}
