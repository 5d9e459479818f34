// The two human-readable reports of a run: an aligned console table with the target verdicts,
// and the markdown summary written to bench/results/latest.md.

import { COLUMNS, formatBytes, formatMs, formatRate, formatRatio, machineLine, rowCells } from './format.js';
import type { BenchRun, TargetCheck } from './results.js';
import { ratio } from './stats.js';
import { find } from './targets.js';

/** Columns right-aligned in the console table (numbers). */
const NUMERIC = new Set<string>(['workers', 'ops/s', '±', 'per worker', 'p50', 'p99', '× naive', '× comlink', '× bare ring', '× direct', '× wazero']);

/** `pass  per-call vs naive piscina: 21.8× (target ≥ 100×)` */
export function describeTarget(target: TargetCheck): string {
  const format = target.unit === 'ms' ? formatMs : formatRatio;
  const wanted = `${target.comparison === '>=' ? '≥' : '≤'} ${format(target.target)}`;
  return `${target.name}: ${format(target.ratio)} (target ${wanted})`;
}

/** The console report: machine line, table, targets, and where a wrong result was seen. */
export function consoleReport(run: BenchRun): string {
  const rows = run.scenarios.map((row) => rowCells(row, run));
  const widths = COLUMNS.map((column, c) => Math.max(column.length, ...rows.map((cells) => (cells[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, c) => (NUMERIC.has(COLUMNS[c] as string) ? cell.padStart(widths[c] as number) : cell.padEnd(widths[c] as number))).join('  ').trimEnd();
  const out = [
    `reactor-pool bench${run.quick ? ' --quick (smoke test: timings are not meaningful)' : ''}`,
    machineLine(run),
    '',
    line(COLUMNS),
    line(widths.map((w) => '─'.repeat(w))),
    ...rows.map(line),
    '',
    'targets (ratios from this run):',
    ...run.targets.map((t) => `  ${t.verdict.padEnd(5)} ${describeTarget(t)}`),
    '',
    'cluster, against the local pool of this run:',
    ...clusterLines(run).map((line) => `  ${line.slice(2)}`),
  ];
  const notes = run.scenarios.filter((s) => s.status !== 'ok' || s.correct === false);
  if (notes.length > 0) out.push('', ...notes.map((s) => `${s.title}${s.workers === 0 ? '' : ` (${s.workers} workers)`}: ${s.note}`));
  return out.join('\n');
}

/** `10,000 sessions: pool open 120 ms, every first call answered in 2.31 s, 1.2 KiB per session (journal + snapshots)` */
export function recoveryLine(run: BenchRun): string {
  const figures = run.scenarios.find((s) => s.id === 'recovery-durable')?.recovery;
  if (figures === undefined) return '- not measured';
  return `- ${figures.sessions.toLocaleString('en-US')} sessions: pool open ${formatMs(figures.openMs)}, every first call answered in ` +
    `${formatMs(figures.answeredMs)}, ${formatBytes(figures.bytesPerSession)} per session (journal + snapshots, ${formatBytes(figures.bytes)} in all)`;
}

/**
 * The cluster rows against the local pool's of the same run:
 * `- 21.3k calls/s through the cluster (…): 0.04× the local pool's per-call (…); each call p50 …`
 */
export function clusterLines(run: BenchRun): string[] {
  const perCall = run.scenarios.find((s) => s.id === 'per-call-cluster');
  const latency = run.scenarios.find((s) => s.id === 'latency-cluster');
  if (perCall?.status !== 'ok') return [`- not measured: ${perCall?.note ?? 'no cluster row in this run'}`];
  const local = find(run.scenarios, 'per-call', run.workers);
  const localLatency = find(run.scenarios, 'latency-pool');
  const lines = [
    `- ${formatRate(perCall.opsPerSecond)} calls/s through the cluster (1000 in flight over 100 sessions): ${formatRatio(ratio(perCall.opsPerSecond, local?.opsPerSecond))} ` +
    `the local pool's per-call (${formatRate(local?.opsPerSecond ?? null)} calls/s on ${run.workers} workers); each call under that load p50 ${formatMs(perCall.latencyMs?.p50)}, p99 ${formatMs(perCall.latencyMs?.p99)}`,
  ];
  if (latency?.status === 'ok') {
    lines.push(`- one session, one call at a time: p50 ${formatMs(latency.latencyMs?.p50)}, p99 ${formatMs(latency.latencyMs?.p99)}; the local pool's ` +
      `p50 ${formatMs(localLatency?.latencyMs?.p50)}, p99 ${formatMs(localLatency?.latencyMs?.p99)} (${formatRatio(ratio(latency.latencyMs?.p50, localLatency?.latencyMs?.p50))} at p50)`);
  } else {
    lines.push(`- one session, one call at a time: not measured: ${latency?.note ?? 'no row'}`);
  }
  return lines;
}

/** The markdown summary: machine facts, the command, the table, targets and what each scenario does. */
export function markdownReport(run: BenchRun): string {
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  const table = [
    `| ${COLUMNS.join(' | ')} |`,
    `|${COLUMNS.map((c) => (NUMERIC.has(c) ? '---:' : '---')).join('|')}|`,
    ...run.scenarios.map((row) => `| ${rowCells(row, run).map(escape).join(' | ')} |`),
  ];
  const latency = (id: string): string => {
    const row = run.scenarios.find((s) => s.id === id);
    return row?.latencyMs == null ? '—' : `p50 ${formatMs(row.latencyMs.p50)}, p90 ${formatMs(row.latencyMs.p90)}, p99 ${formatMs(row.latencyMs.p99)}`;
  };
  return [
    `# reactor-pool benchmark${run.quick ? ' (quick smoke test: timings not meaningful)' : ''}`,
    '',
    `- machine: ${machineLine(run)}`,
    `- command: \`${run.command}\``,
    `- module: \`${run.module}\`; headline scenarios on ${run.workers} workers; scaling over ${run.scaling.join(', ')} workers`,
    `- duration: ${run.durationSeconds.toFixed(0)} s; all results correct: ${run.correct ? 'yes' : '**NO**'}`,
    '',
    ...table,
    '',
    '## Targets (ratios from this run)',
    '',
    ...run.targets.map((t) => `- **${t.verdict}** — ${describeTarget(t)}`),
    '',
    '## Latency (one call in flight)',
    '',
    `- reactor-pool: ${latency('latency-pool')}`,
    `- raw postMessage: ${latency('latency-postmessage')}`,
    `- durable (acknowledged after its journal flush): ${latency('latency-durable')}`,
    `- through the cluster (acknowledged once its journal record is in JetStream): ${latency('latency-cluster')}`,
    '',
    '## Recovery after kill -9',
    '',
    recoveryLine(run),
    '',
    '## Cluster (member processes on a local nats-server; this process a client)',
    '',
    ...clusterLines(run),
    '',
    '## Scenarios',
    '',
    ...run.scenarios.map((s) => `- **${s.title}**${s.workers > 0 ? ` (${s.workers} worker${s.workers === 1 ? '' : 's'})` : ''}: ${s.note}`),
    '',
  ].join('\n');
}
