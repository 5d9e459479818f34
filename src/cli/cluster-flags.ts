// The flags every cluster command takes (`--nats URL`, repeatable, and `--cluster NAME`), read from
// their text and checked before anything connects.

import { InvalidOptionError, describeValue } from '../errors.js';
import { checkClusterName, checkMemberId } from '../cluster/cluster-names.js';
import type { OptionSpec } from './command-line.js';

export interface ClusterFlags {
  /** The NATS servers to connect to (`--nats`, repeatable; at least one). */
  readonly servers: readonly string[];
  /** The cluster's name (`--cluster`). */
  readonly cluster: string;
}

/** The flags for {@link parse}. */
export function clusterFlagSpecs(): OptionSpec {
  return { nats: { type: 'string', multiple: true }, cluster: { type: 'string' } };
}

/** The `--help` lines of the flags, aligned with the cluster commands' other options. */
export const CLUSTER_FLAGS_HELP = `  --nats URL           a NATS server with JetStream: nats://HOST:PORT or HOST:PORT
                       (repeat it to list the servers of a NATS cluster; required)
  --cluster NAME       the cluster: 1 to 64 letters, digits, "_" or "-" (required)`;

/** Reads the flags parsed with {@link clusterFlagSpecs}; a missing or bad one is `ERR_INVALID_OPTION` showing it. */
export function readClusterFlags(values: Record<string, unknown>, command: string): ClusterFlags {
  const servers = (values['nats'] as string[] | undefined) ?? [];
  if (servers.length === 0) throw new InvalidOptionError(`${command} needs --nats URL (see reactor-pool ${command} --help)`);
  for (const server of servers) {
    if (server.trim() === '' || /\s/.test(server)) {
      throw new InvalidOptionError(`Expected --nats to be a NATS server URL (nats://HOST:PORT or HOST:PORT), got ${describeValue(server)}`);
    }
  }
  const cluster = values['cluster'];
  if (cluster === undefined) throw new InvalidOptionError(`${command} needs --cluster NAME (see reactor-pool ${command} --help)`);
  return { servers, cluster: checkClusterName(cluster, '--cluster') };
}

/** `--member-id ID`, checked by the member's own rule, the message naming the flag. */
export function memberIdFlag(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  try {
    return checkMemberId(value);
  } catch {
    throw new InvalidOptionError(`Expected --member-id to be 1 to 64 letters, digits, "_" or "-", got ${describeValue(value)}`);
  }
}
