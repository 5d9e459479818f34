// The run's chart (bench/results/latest.svg): ops per second by scenario and worker count as
// horizontal bars on a log scale. Hand-written SVG, no dependencies.

import { formatRate, machineLine } from './format.js';
import type { BenchRun, ScenarioId, ScenarioResult } from './results.js';

const WIDTH = 920;
const LABEL_X = 16;
const BAR_X = 300;
const BAR_WIDTH = 470;
const ROW_HEIGHT = 26;
const BAR_HEIGHT = 16;
const TOP = 92;

type Kind = 'reference' | 'baseline' | 'pool' | 'activations';

const COLORS: Record<Kind, string> = { reference: '#2e7d32', baseline: '#9e9e9e', pool: '#1565c0', activations: '#ef6c00' };
const LEGEND: Record<Kind, string> = {
  reference: 'in-thread references (calls/s)',
  baseline: 'baselines (calls/s)',
  pool: 'reactor-pool (calls/s)',
  activations: 'session activations (activations/s)',
};

function kindOf(id: ScenarioId): Kind {
  if (id === 'direct' || id === 'wazero') return 'reference';
  if (id === 'naive-piscina' || id === 'comlink' || id === 'bare-ring') return 'baseline';
  if (id.startsWith('activations-') || id === 'recovery-durable') return 'activations';
  return 'pool';
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** `1`, `10`, `100`, `1k`, … `100M`, `1G` for 10^decade. */
function decadeLabel(decade: number): string {
  const suffixes = ['', 'k', 'M', 'G', 'T'];
  const group = Math.min(Math.floor(decade / 3), suffixes.length - 1);
  return `${10 ** (decade - group * 3)}${suffixes[group] ?? ''}`;
}

function label(row: ScenarioResult): string {
  return row.workers === 0 ? `${row.title} (main thread)` : `${row.title} · ${row.workers} worker${row.workers === 1 ? '' : 's'}`;
}

/** The chart of every throughput and activation row of `run` (latency rows are in the tables). */
export function throughputChart(run: BenchRun): string {
  const rows = run.scenarios.filter((s) => !s.id.startsWith('latency-'));
  const values = rows.map((r) => r.opsPerSecond).filter((v): v is number => v !== null && v > 0);
  const low = Math.floor(Math.log10(Math.min(...values, 1e3)));
  const high = Math.max(Math.ceil(Math.log10(Math.max(...values, 1e4))), low + 1);
  const x = (value: number): number => BAR_X + (BAR_WIDTH * (Math.log10(value) - low)) / (high - low);
  const height = TOP + rows.length * ROW_HEIGHT + 40;
  const axisY = TOP + rows.length * ROW_HEIGHT + 6;
  const parts: string[] = [];

  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="title desc" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<title id="title">reactor-pool benchmark: throughput by scenario and worker count</title>`,
    `<desc id="desc">${escapeXml(machineLine(run))}. Log scale.</desc>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LABEL_X}" y="24" font-size="16" font-weight="600">reactor-pool bench: ops per second (log scale)${run.quick ? ' — quick smoke test' : ''}</text>`,
    `<text x="${LABEL_X}" y="44" fill="#555">${escapeXml(machineLine(run))}</text>`,
  );
  let legendX = LABEL_X;
  for (const kind of Object.keys(COLORS) as Kind[]) {
    parts.push(
      `<rect x="${legendX}" y="58" width="12" height="12" fill="${COLORS[kind]}"/>`,
      `<text x="${legendX + 18}" y="68" fill="#333">${escapeXml(LEGEND[kind])}</text>`,
    );
    legendX += 18 + Math.ceil(LEGEND[kind].length * 6.2) + 18; // about 6.2 px per character at 12 px
  }

  for (let decade = low; decade <= high; decade++) {
    const gx = x(10 ** decade).toFixed(1);
    parts.push(
      `<line x1="${gx}" y1="${TOP - 6}" x2="${gx}" y2="${axisY}" stroke="#e0e0e0"/>`,
      `<text x="${gx}" y="${axisY + 16}" text-anchor="middle" fill="#555">${decadeLabel(decade)}</text>`,
    );
  }

  rows.forEach((row, i) => {
    const y = TOP + i * ROW_HEIGHT;
    const textY = y + BAR_HEIGHT - 3;
    parts.push(`<text x="${LABEL_X}" y="${textY}" fill="#222">${escapeXml(label(row))}</text>`);
    const value = row.opsPerSecond;
    if (row.status !== 'ok' || value === null || value <= 0) {
      parts.push(`<text x="${BAR_X + 4}" y="${textY}" fill="#b00020" font-style="italic">${escapeXml(row.status === 'ok' ? 'no value' : row.status)}</text>`);
      return;
    }
    const width = Math.max(x(value) - BAR_X, 1);
    const unit = row.unit === 'activations' ? 'act/s' : 'calls/s';
    const wrong = row.correct === false ? ' WRONG RESULTS' : '';
    parts.push(
      `<rect x="${BAR_X}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${COLORS[kindOf(row.id)]}" rx="2"/>`,
      `<text x="${(BAR_X + width + 6).toFixed(1)}" y="${textY}" fill="${wrong === '' ? '#222' : '#b00020'}">${formatRate(value)} ${unit}${wrong}</text>`,
    );
  });

  parts.push(`<line x1="${BAR_X}" y1="${TOP - 6}" x2="${BAR_X}" y2="${axisY}" stroke="#888"/>`, '</svg>', '');
  return parts.join('\n');
}
