// README's runnable code is the examples' own text: a block marked `<!-- example: examples/x.ts -->`
// must equal that file (which test/examples.test.ts runs), and every block that is a whole
// program (it imports the package) must be so marked, so no README program goes unchecked. A marker
// may also name what a program prints (examples/x.out) or a module one uses (examples/<folder>/y.ts).

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const README = readFileSync(`${ROOT}README.md`, 'utf8');

interface CodeBlock {
  /** The line its opening fence is on (1-based). */
  readonly line: number;
  readonly language: string;
  readonly text: string;
  /** The example file named by the marker just above it, if any. */
  readonly example: string | undefined;
}

/** The fenced code blocks of a Markdown text, each with the example marker just above it. */
function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  let marker: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const named = /^<!-- example: (\S+) -->$/.exec(line);
    if (named !== null) {
      marker = named[1];
      continue;
    }
    const fence = /^(\s*)```(\w*)$/.exec(line);
    if (fence === null) {
      if (line.trim() !== '') marker = undefined;
      continue;
    }
    const indent = fence[1] ?? '';
    const body: string[] = [];
    const start = i;
    for (i++; i < lines.length && lines[i] !== `${indent}\`\`\``; i++) body.push((lines[i] ?? '').slice(indent.length));
    blocks.push({ line: start + 1, language: fence[2] ?? '', text: `${body.join('\n')}\n`, example: marker });
    marker = undefined;
  }
  return blocks;
}

describe('README examples', () => {
  const blocks = codeBlocks(README);
  const marked = blocks.filter((block) => block.example !== undefined);

  it('marks the examples it shows', () => {
    expect(marked.map((block) => block.example)).toEqual(
      expect.arrayContaining([
        'examples/basic.ts', 'examples/snapshots.ts', 'examples/hibernation.ts', 'examples/durability.ts',
        'examples/types/typed-exports.ts', 'examples/typed-exports.ts', 'examples/typed-exports.out',
        'examples/host/host-functions.ts', 'examples/host-functions.ts', 'examples/host-functions.out',
        'examples/diagnostics.ts', 'examples/diagnostics.out', 'examples/metrics-server.ts', 'examples/metrics-server.out',
      ]),
    );
  });

  it('marks only a program of examples/, its output, or a module in a folder of examples/', () => {
    const kinds = marked.map((block) => {
      const example = block.example ?? '';
      const program = /^examples\/([\w-]+)\.(ts|out)$/.exec(example);
      if (program !== null) return existsSync(`${ROOT}examples/${program[1] ?? ''}.ts`) ? 'program' : `README.md line ${block.line}: ${example} (no such program)`;
      return /^examples\/[\w-]+\/[\w.-]+\.ts$/.test(example) ? 'module' : `README.md line ${block.line}: ${example}`;
    });
    expect(kinds.filter((kind) => kind !== 'program' && kind !== 'module')).toEqual([]);
  });

  it.each(marked.map((block) => [block.example ?? '', block] as const))('the block marked %s is that file', (example, block) => {
    expect(existsSync(`${ROOT}${example}`), `${example} (README.md line ${block.line})`).toBe(true);
    expect(block.text, `README.md line ${block.line}`).toBe(readFileSync(`${ROOT}${example}`, 'utf8'));
  });

  it('shows every whole program (a block importing the package) as a checked example', () => {
    const programs = blocks.filter((block) => block.language === 'ts' && /^(?:import|\}) .*from 'reactor-pool(?:\/[^']+)?';$/m.test(block.text));
    expect(programs.length).toBeGreaterThan(0);
    expect(programs.filter((block) => block.example === undefined).map((block) => `README.md line ${block.line}`)).toEqual([]);
  });
});
