// The cluster's stream in JetStream, holding every partition's journal, snapshots and fence records:
// made by whoever comes first, checked by everyone after.

import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import { ClusterMismatchError, ClusterUnavailableError, InvalidOptionError, describeValue } from '../errors.js';
import { checkClusterName, streamName, streamSubjects } from './cluster-names.js';

/** Options of {@link ensureClusterStream}. */
export interface ClusterStreamOptions {
  /**
   * How many servers keep a copy of the stream (1 to 5), when this call creates it. An existing
   * stream keeps its own count.
   * @default 1
   */
  readonly replicas?: number;
}

/**
 * Makes sure the cluster's stream exists: creates it if missing (file storage, the cluster's
 * subjects, no limit that could drop a message, direct gets allowed), accepts an existing one with
 * the same subjects (turning direct gets on if they are off), and rejects ERR_CLUSTER_MISMATCH for
 * one with other subjects. Resolves with the stream's info.
 */
export async function ensureClusterStream(jsm: JetStreamManager, cluster: string, options: ClusterStreamOptions = {}): Promise<StreamInfo> {
  checkClusterName(cluster);
  const replicas = options.replicas ?? 1;
  if (!Number.isSafeInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new InvalidOptionError(`Expected \`replicas\` to be an integer from 1 to 5, got ${describeValue(replicas)}`);
  }
  const name = streamName(cluster);
  const subjects = [streamSubjects(cluster)];
  for (let attempt = 0; ; attempt++) {
    const existing = await jsm.streams.info(name).catch((error: unknown) => {
      if (isStreamNotFound(error)) return undefined;
      throw unavailable(`the stream ${name} could not be looked up`, error);
    });
    if (existing !== undefined) {
      const held = existing.config.subjects ?? [];
      if (held.length !== 1 || held[0] !== subjects[0]) {
        throw new ClusterMismatchError(`the stream ${name} exists with subjects ${describeValue(held)}, not ${describeValue(subjects)}`);
      }
      if (existing.config.allow_direct) return existing;
      return jsm.streams.update(name, { ...existing.config, allow_direct: true }).catch((error: unknown) => {
        throw unavailable(`the stream ${name} could not be updated to allow direct gets`, error);
      });
    }
    try {
      return await jsm.streams.add({
        name,
        subjects,
        storage: 'file',
        num_replicas: replicas,
        allow_direct: true,
        // No limits: a journal message dropped by a limit would be an acknowledged call lost.
        max_msgs: -1,
        max_bytes: -1,
        max_age: 0,
        max_msgs_per_subject: -1,
        max_msg_size: -1,
        discard: 'old',
      });
    } catch (error) {
      // Another member made it in between: look again (once).
      if (attempt === 0 && isAlreadyInUse(error)) continue;
      throw unavailable(`the stream ${name} could not be created`, error);
    }
  }
}

function isStreamNotFound(error: unknown): boolean {
  return (error as { code?: unknown }).code === 10059 || (error as { name?: unknown }).name === 'StreamNotFoundError';
}

function isAlreadyInUse(error: unknown): boolean {
  return (error as { code?: unknown }).code === 10058;
}

function unavailable(what: string, error: unknown): ClusterUnavailableError {
  if (error instanceof ClusterUnavailableError || error instanceof ClusterMismatchError) return error;
  return new ClusterUnavailableError(`${what}: ${error instanceof Error ? error.message : String(error)}`);
}
