// The cluster scenarios: a nats-server with JetStream on 127.0.0.1, two member processes serving the
// reactor's partitions, and this process as a client (reactor-pool/cluster). Calls per second with
// many sessions in flight (batched per partition) and one session's sequential calls, every result
// checked; compared with the local pool's per-call rows of the same run in the report. One cluster
// serves both rows: the first starts it, the second stops it. Skipped without a nats-server.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ReferenceReactor } from '../../src/index.js';
import { ClusterClient } from '../../src/cluster/index.js';
import { rendezvousTarget } from '../../src/cluster/assignment.js';
import { natsServerBinary, startNatsServer, type NatsServer } from '../../test/helpers/nats-server.js';
import { RunningTotals } from './check.js';
import { measure, type MeasurePlan } from './measure.js';
import type { ScenarioResult } from './results.js';
import { PER_CALL_SESSIONS, WINDOW, headOf, measuredResult, roundRobinInc, unmeasuredResult, windowed, type ScenarioContext } from './scenario.js';
import { summarizeLatency } from './stats.js';

const MEMBER_CHILD = fileURLToPath(new URL('./cluster-member-child.js', import.meta.url));

/** Member processes of the bench's cluster. */
export const CLUSTER_MEMBERS = 2;
/** Its partitions: each a pool of one worker thread in the member that owns it. */
export const CLUSTER_PARTITIONS = 4;
/** How long the cluster may take to start (nats-server, members joined, every partition owned by its target). */
const START_BOUND_MS = 60_000;

/** Shorter than the other scenarios' plan: a cluster round trip is slower, and the rows should take seconds. */
function clusterPlan(plan: MeasurePlan): MeasurePlan {
  return plan.quick ? plan : { quick: false, timeMs: 2000, warmupMs: 300, minIterations: 3 };
}

/** Why the cluster rows cannot run here, or undefined when they can. */
export function clusterSkipReason(): string | undefined {
  return natsServerBinary() === undefined ? 'skipped: no nats-server (put it on PATH or set REACTOR_POOL_NATS_SERVER)' : undefined;
}

interface RunningCluster {
  readonly nats: NatsServer;
  readonly members: readonly ChildProcessWithoutNullStreams[];
  readonly client: ClusterClient<ReferenceReactor>;
}

/** Starts `count` members and resolves once every partition is owned by its rendezvous target. */
function startMembers(ctx: ScenarioContext, url: string, cluster: string): { members: ChildProcessWithoutNullStreams[]; settled: Promise<void> } {
  const ids = Array.from({ length: CLUSTER_MEMBERS }, (_, i) => `bench-${i + 1}`);
  const owned = new Map<string, readonly number[]>();
  const members: ChildProcessWithoutNullStreams[] = [];
  const settled = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the cluster did not settle within ${START_BOUND_MS} ms (owned: ${JSON.stringify([...owned])})`)), START_BOUND_MS);
    const check = (): void => {
      for (let p = 0; p < CLUSTER_PARTITIONS; p++) {
        const target = rendezvousTarget(p, ids);
        if (target === undefined || !(owned.get(target) ?? []).includes(p)) return;
        if ([...owned].some(([id, list]) => id !== target && list.includes(p))) return;
      }
      clearTimeout(timer);
      resolve();
    };
    for (const id of ids) {
      const child = spawn(process.execPath, [MEMBER_CHILD, ctx.modulePath, url, cluster, id, String(CLUSTER_PARTITIONS)], { stdio: ['pipe', 'pipe', 'pipe'] });
      members.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (text: string) => {
        stdout += text;
        const lines = stdout.split('\n');
        stdout = lines.pop() ?? '';
        for (const line of lines) owned.set(id, (JSON.parse(line) as { owned: number[] }).owned);
        check();
      });
      child.stderr.setEncoding('utf8').on('data', (text: string) => {
        stderr = (stderr + text).slice(-4000);
      });
      child.stdin.on('error', () => {
        // Gone: nothing to write to.
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`member ${id} ended with ${signal ?? code} before the cluster settled: ${stderr.trim().split('\n').at(-1) ?? ''}`));
      });
    }
  });
  return { members, settled };
}

/** Ends the members (leave: SIGTERM) and the server; kills what does not end within 10 s. */
async function stopCluster(cluster: RunningCluster): Promise<void> {
  await cluster.client.close();
  await Promise.all(cluster.members.map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  })));
  await cluster.nats.stop();
}

/** The two cluster rows over one cluster: `perCall()` starts it, `latency()` measures and stops it. */
export class ClusterScenarios {
  #running: Promise<RunningCluster> | undefined;

  constructor(readonly ctx: ScenarioContext) {}

  #start(): Promise<RunningCluster> {
    this.#running ??= (async () => {
      const nats = await startNatsServer();
      const { members, settled } = startMembers(this.ctx, nats.url, 'bench');
      try {
        await settled;
        const client = await ClusterClient.connect<ReferenceReactor>({ nats: nats.url, cluster: 'bench' });
        return { nats, members, client };
      } catch (error) {
        for (const child of members) child.kill('SIGKILL');
        await nats.stop();
        throw error;
      }
    })();
    return this.#running;
  }

  /** {@link WINDOW} calls in flight over {@link PER_CALL_SESSIONS} sessions, as the local per-call row; each call's latency kept. */
  async perCall(): Promise<ScenarioResult> {
    const head = headOf('per-call-cluster', CLUSTER_PARTITIONS);
    const skip = clusterSkipReason();
    if (skip !== undefined) return unmeasuredResult(head, 'skipped', skip);
    const { client } = await this.#start();
    const sessions = Array.from({ length: PER_CALL_SESSIONS }, (_, s) => client.session(`per-call-${s}`));
    const totals = new RunningTotals(sessions.length, this.ctx.initial);
    const latencies: number[] = [];
    const issue = roundRobinInc(sessions.length, totals, (s, n) => {
      const sent = performance.now();
      return (sessions[s] as (typeof sessions)[number]).call('inc', n).then((value) => {
        latencies.push(performance.now() - sent);
        return value;
      });
    });
    const calls = this.ctx.sizes.clusterCalls;
    const measured = await measure('per-call cluster', () => windowed(calls, WINDOW, issue), calls, clusterPlan(this.ctx.plan), true);
    const finals = await Promise.all(sessions.map((session) => session.call('inc', 0)));
    finals.forEach((got, s) => totals.checkFinal(s, got));
    const result = measuredResult(head, measured, totals,
      `${CLUSTER_MEMBERS} member processes, ${CLUSTER_PARTITIONS} partitions (one worker each), nats-server on 127.0.0.1; this process a client: ` +
      `${WINDOW} calls in flight over ${sessions.length} sessions, batched per partition; p50/p99 of each call (warm-up included); every result checked`);
    return { ...result, latencyMs: summarizeLatency(latencies.sort((a, b) => a - b)) };
  }

  /** One session, one call at a time through the cluster. Stops the cluster. */
  async latency(): Promise<ScenarioResult> {
    const head = headOf('latency-cluster', CLUSTER_PARTITIONS);
    const skip = clusterSkipReason();
    if (skip !== undefined) return unmeasuredResult(head, 'skipped', skip);
    const running = await this.#start();
    try {
      const session = running.client.session('latency');
      const totals = new RunningTotals(1, this.ctx.initial);
      const iteration = async (): Promise<void> => {
        const want = totals.advance(0, 1);
        totals.check(0, want, await session.call('inc', 1));
      };
      const measured = await measure('latency cluster', iteration, 1, clusterPlan(this.ctx.plan), true);
      totals.checkFinal(0, await session.call('inc', 0));
      return measuredResult(head, measured, totals,
        `one call in flight (await each) through the cluster (${CLUSTER_MEMBERS} members, acknowledged once its journal record is in JetStream); every result checked`);
    } finally {
      this.#running = undefined;
      await stopCluster(running);
    }
  }

  /** Stops the cluster if a row started it and did not stop it (the latency row failed before it could). */
  async stop(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    if (running !== undefined) await running.then(stopCluster, () => undefined);
  }
}
