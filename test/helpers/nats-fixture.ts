// A nats-server for a test file's tests (vitest hooks): kept apart from nats-server.ts, which the
// benchmarks use outside vitest.

import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll } from 'vitest';
import { startNatsServer, type NatsServer } from './nats-server.js';

/**
 * A nats-server and a connection to it for the tests of a `describe`: started before them, both
 * stopped after. Read `server` and `nc` inside the tests (they exist once the hook has run).
 */
export function useNatsServer(): { readonly server: NatsServer; readonly nc: NatsConnection } {
  let server: NatsServer | undefined;
  let nc: NatsConnection | undefined;
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });
  return {
    get server(): NatsServer {
      if (server === undefined) throw new Error('the nats-server is not started yet: read it inside a test');
      return server;
    },
    get nc(): NatsConnection {
      if (nc === undefined) throw new Error('the NATS connection is not open yet: read it inside a test');
      return nc;
    },
  };
}
