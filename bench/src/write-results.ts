// Writes a run's files: `<timestamp>.json` and `latest.json` (the whole run), `latest.md`
// (the summary) and `latest.svg` (the chart), creating the directory if needed.

import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { markdownReport } from './report.js';
import type { BenchRun } from './results.js';
import { throughputChart } from './svg-chart.js';

/** Paths of the files {@link writeResults} wrote. */
export interface WrittenFiles {
  readonly json: string;
  readonly latestJson: string;
  readonly markdown: string;
  readonly svg: string;
}

/**
 * Creates `outDir` and its missing parents; call it before a long run so that a bad `--out` fails at once.
 * Not `mkdir(…, { recursive: true })`: on Node 20 that spins forever where the kernel answers ENOENT
 * for an existing parent (e.g. under /proc); here a second ENOENT is final.
 */
export async function prepareOutDir(outDir: string): Promise<void> {
  try {
    await mkdir(outDir);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && (await stat(outDir)).isDirectory()) return;
    if (code !== 'ENOENT' || dirname(outDir) === outDir) throw error;
  }
  await prepareOutDir(dirname(outDir));
  await mkdir(outDir);
}

/** Writes the JSON, markdown and SVG of `run` into `outDir`. */
export async function writeResults(run: BenchRun, outDir: string): Promise<WrittenFiles> {
  await prepareOutDir(outDir);
  const stamp = run.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const files: WrittenFiles = {
    json: join(outDir, `${stamp}.json`),
    latestJson: join(outDir, 'latest.json'),
    markdown: join(outDir, 'latest.md'),
    svg: join(outDir, 'latest.svg'),
  };
  const json = `${JSON.stringify(run, null, 2)}\n`;
  await Promise.all([
    writeFile(files.json, json),
    writeFile(files.latestJson, json),
    writeFile(files.markdown, markdownReport(run)),
    writeFile(files.svg, throughputChart(run)),
  ]);
  return files;
}
