// Real-world reactor: pulldown-cmark's Markdown renderer (test/fixtures/conformance/markdown/).
// Thousands of renders stay exact across sessions, each session keeps its own count, results are
// freed (empty ones included), and a panic is a trap the instance survives or is reset from.

import { describe, expect, it } from 'vitest';
import { seeded } from '../../dist/src/seeded-random.js';
import { fixture, OutputCollector } from '../helpers/fixtures.js';
import { createPool, rejection } from '../helpers/pool.js';
import { asNumber } from '../helpers/results.js';

const MARKDOWN = fixture('conformance/markdown.wasm');

/** Documents and the HTML CommonMark (plus tables, strikethrough, task lists) gives for them. */
const DOCUMENTS: readonly (readonly [markdown: string, html: string])[] = [
  ['', ''],
  ['# Title', '<h1>Title</h1>\n'],
  ['Zoë *🌍* **bold** `code`', '<p>Zoë <em>🌍</em> <strong>bold</strong> <code>code</code></p>\n'],
  ['日本語の段落\n\n## Ünïcödé ✓', '<p>日本語の段落</p>\n<h2>Ünïcödé ✓</h2>\n'],
  ['| a | b |\n|---|---|\n| 1 | 2 |\n', '<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody>\n<tr><td>1</td><td>2</td></tr>\n</tbody></table>\n'],
  ['- [x] done\n- [ ] todo\n', '<ul>\n<li><input disabled="" type="checkbox" checked=""/>\ndone</li>\n<li><input disabled="" type="checkbox"/>\ntodo</li>\n</ul>\n'],
  ['~~gone~~ <b>&amp; & < >', '<p><del>gone</del> <b>&amp; &amp; &lt; &gt;</p>\n'],
  ['> quote\n\n1. one\n2. two\n\n```js\nlet x = 1 < 2;\n```\n',
    '<blockquote>\n<p>quote</p>\n</blockquote>\n<ol>\n<li>one</li>\n<li>two</li>\n</ol>\n<pre><code class="language-js">let x = 1 &lt; 2;\n</code></pre>\n'],
  ['[link](http://example.com "t") ![img](a.png)\nline  \nbreak',
    '<p><a href="http://example.com" title="t">link</a> <img src="a.png" alt="img" />\nline<br />\nbreak</p>\n'],
  ['    indented\n\n***\n\n\\*not emphasis\\*', '<pre><code>indented\n</code></pre>\n<hr />\n<p>*not emphasis*</p>\n'],
];

describe('markdown reactor (pulldown-cmark)', () => {
  it('renders 4,000 documents over 20 sessions, every result exact, every session counting its own', async () => {
    const pool = await createPool({ module: MARKDOWN, workers: 2 });
    const random = seeded(9);
    // 181, 183, …, 219 renders: 4,000 in all, a different count per session.
    const plans = Array.from({ length: 20 }, (_, i) =>
      Array.from({ length: 181 + 2 * i }, () => Math.floor(random() * DOCUMENTS.length)));
    expect(plans.reduce((sum, plan) => sum + plan.length, 0)).toBe(4000);
    await Promise.all(plans.map(async (plan, i) => {
      const session = pool.session(`doc-${i}`).with({ result: 'string' });
      // Half one call per document, half in one callMany, queued all at once.
      const half = Math.floor(plan.length / 2);
      const single = plan.slice(0, half).map((doc) => session.call('render', DOCUMENTS[doc]![0]));
      const many = session.callMany('render', plan.slice(half).map((doc) => DOCUMENTS[doc]![0]));
      const results = [...(await Promise.all(single)), ...(await many)];
      expect(results).toEqual(plan.map((doc) => DOCUMENTS[doc]![1]));
    }));
    const counts = await Promise.all(plans.map((_, i) => pool.session(`doc-${i}`).call('rendered')));
    expect(counts).toEqual(plans.map((plan) => plan.length));
  });

  it('renders bytes that are not UTF-8 with U+FFFD instead of failing', async () => {
    const pool = await createPool({ module: MARKDOWN, workers: 1 });
    const html = await pool.session('bytes').with({ result: 'string' }).call('render', new Uint8Array([0x2a, 0xff, 0x41, 0x2a]));
    expect(html).toBe('<p><em>\uFFFDA</em></p>\n');
  });

  it('frees every result: live allocations are back at baseline after 1,000 renders', async () => {
    const pool = await createPool({ module: MARKDOWN, workers: 1 });
    const session = pool.session('leaks');
    const render = session.with({ result: 'string' });
    expect(await render.call('render', '*warm-up*')).toBe('<p><em>warm-up</em></p>\n');
    const baseline = await session.call('live_allocations').then(asNumber);
    const documents = DOCUMENTS.filter(([markdown]) => markdown !== '').map(([markdown]) => markdown);
    await render.callMany('render', Array.from({ length: 1000 }, (_, i) => documents[i % documents.length]!));
    expect(await session.call('live_allocations')).toBe(baseline);
  });

  it('frees empty results too: live allocations are back at baseline after 1,000 empty renders', async () => {
    // alloc(0) is a real allocation in Rust: an empty result is a buffer the pool must free as well.
    const pool = await createPool({ module: MARKDOWN, workers: 1 });
    const session = pool.session('empty');
    const render = session.with({ result: 'string' });
    expect(await render.call('render', '*warm-up*')).toBe('<p><em>warm-up</em></p>\n');
    const baseline = await session.call('live_allocations').then(asNumber);
    const results = await render.callMany('render', Array.from({ length: 1000 }, () => ''));
    expect(results.every((html) => html === '')).toBe(true);
    expect(await session.call('rendered')).toBe(1001);
    expect(await session.call('live_allocations')).toBe(baseline);
  });

  it("reports a panic as ERR_REACTOR_TRAP; 'keep' renders on with its count, 'reset' starts from zero", async () => {
    const stderr = new OutputCollector();
    const keep = await createPool({ module: MARKDOWN, workers: 1, stderr: stderr.callback });
    const keptSession = keep.session('kept');
    const kept = keptSession.with({ result: 'string' });
    expect(await kept.call('render', '# a')).toBe('<h1>a</h1>\n');
    const trap = await rejection(kept.call('render_panic', '# b'));
    expect(trap).toMatchObject({ code: 'ERR_REACTOR_TRAP', exportName: 'render_panic', sessionKey: 'kept' });
    expect(stderr.of('kept')).toContain('render_panic: gave up after rendering 11 bytes of HTML');
    expect(await kept.call('render', '# c')).toBe('<h1>c</h1>\n');
    expect(await keptSession.call('rendered')).toBe(2);

    const reset = await createPool({ module: MARKDOWN, workers: 1, onTrap: 'reset' });
    const freshSession = reset.session('fresh');
    const fresh = freshSession.with({ result: 'string' });
    expect(await fresh.call('render', '# a')).toBe('<h1>a</h1>\n');
    expect((await rejection(fresh.call('render_panic', '# b'))).code).toBe('ERR_REACTOR_TRAP');
    expect(await freshSession.call('rendered')).toBe(0);
    expect(await fresh.call('render', '*d*')).toBe('<p><em>d</em></p>\n');
    expect(await freshSession.call('rendered')).toBe(1);
  });
});
