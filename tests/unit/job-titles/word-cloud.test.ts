import fc from 'fast-check';
import { fileBuiltInTaxonomy } from '../../../shared/adapters/reference/taxonomy-file';
import {
  escapeXml,
  generateWordCloud,
  layoutWordCloud,
  renderWordCloudSvg,
  type WordCloudTerm,
} from '../../../shared/domain/job-titles/word-cloud';

const index = fileBuiltInTaxonomy();

/**
 * Minimal XML well-formedness check: balanced, properly nested tags, quoted attributes, no raw "<"
 * or unescaped "&" in text or attribute values.
 */
function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = token.exec(xml)) !== null) {
    if (m.index !== pos) throw new Error(`unexpected text at ${pos}`);
    pos = token.lastIndex;
    if (m[6]) throw new Error(`stray "<" at ${m.index}: ${xml.slice(m.index, m.index + 40)}`);
    const text = m[5] ?? m[3] ?? '';
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(text))
      throw new Error(`raw & near ${m.index}`);
    if (m[5] !== undefined) continue;
    const [, closing, name, , selfClosing] = m;
    if (closing) {
      if (stack.pop() !== name) throw new Error(`mismatched </${name}>`);
    } else if (!selfClosing) {
      stack.push(name as string);
    }
  }
  if (pos !== xml.length) throw new Error('trailing garbage');
  if (stack.length !== 0) throw new Error(`unclosed ${stack.join(',')}`);
}

const TITLES = [
  'Sr. Software Engineer',
  'Software Engineer',
  'SWE II',
  'Data Scientist',
  'Senior Data Scientist',
  'Data Engineer',
  'Product Manager',
  'Senior PM',
  'Frontend Dev',
  'DevOps Engineer',
  '',
  '   ',
  'Zorblax Handler',
];

describe('generateWordCloud', () => {
  it('counts normalised words with weights, ignoring seniority and stop words', () => {
    const cloud = generateWordCloud(index, TITLES);
    expect(cloud).toMatchObject({
      mode: 'words',
      totalTitles: 11,
      recognizedTitles: 10,
      unknownTitles: 1,
      skippedInputs: 2,
    });
    const byText = Object.fromEntries(cloud.terms.map((t) => [t.text, t]));
    expect(byText.Engineer).toEqual({ text: 'Engineer', count: 5, weight: 1 });
    expect(byText.Software?.count).toBe(3);
    expect(byText.Data?.count).toBe(3);
    expect(byText.Manager).toEqual({ text: 'Manager', count: 2, weight: 0.4 });
    expect(byText.Senior).toBeUndefined();
    expect(cloud.terms.map((t) => t.count)).toEqual(
      [...cloud.terms.map((t) => t.count)].sort((a, b) => b - a),
    );
  });

  it('counts whole normalised titles in titles mode', () => {
    const cloud = generateWordCloud(
      index,
      ['Sr. SWE', 'Senior Software Engineer', 'senior software engineer!', 'QA'],
      {
        mode: 'titles',
      },
    );
    expect(cloud.terms).toEqual([
      { text: 'Senior Software Engineer', count: 3, weight: 1 },
      { text: 'QA Engineer', count: 1, weight: 0.3333 },
    ]);
  });

  it('does not depend on input order', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(TITLES, { minLength: TITLES.length, maxLength: TITLES.length }),
        (shuffled) => {
          expect(generateWordCloud(index, shuffled)).toEqual(generateWordCloud(index, TITLES));
        },
      ),
      { numRuns: 20 },
    );
  });

  it('applies maxTerms and minCount', () => {
    const cloud = generateWordCloud(index, TITLES, { maxTerms: 2, minCount: 2 });
    expect(cloud.terms.map((t) => t.text)).toEqual(['Engineer', 'Data']);
    expect(cloud.omittedTerms).toBeGreaterThan(0);
  });
});

describe('renderWordCloudSvg', () => {
  const terms: WordCloudTerm[] = [
    { text: 'Engineer', count: 10, weight: 1 },
    { text: '<script>alert("x")</script>', count: 5, weight: 0.5 },
    { text: 'R&D "Lab"', count: 4, weight: 0.4 },
    { text: "O'Brien & Sons", count: 3, weight: 0.3 },
    { text: 'Data', count: 2, weight: 0.2 },
  ];

  it('produces a well-formed SVG document with escaped text', () => {
    const svg = renderWordCloudSvg(terms, { title: 'Cloud <&> "test"' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    assertWellFormedXml(svg.replace(/\n/g, ''));
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(svg).toContain('R&amp;D &quot;Lab&quot;');
    expect(svg).toContain('O&apos;Brien &amp; Sons');
    expect(svg).toContain('<title>Cloud &lt;&amp;&gt; &quot;test&quot;</title>');
    expect((svg.match(/<text /g) ?? []).length).toBe(terms.length);
  });

  it('is deterministic: same input, same bytes', () => {
    expect(renderWordCloudSvg(terms)).toBe(renderWordCloudSvg(terms.map((t) => ({ ...t }))));
    const cloud = generateWordCloud(index, TITLES);
    expect(renderWordCloudSvg(cloud.terms, { width: 600, height: 300 })).toBe(
      renderWordCloudSvg(generateWordCloud(index, [...TITLES]).terms, { width: 600, height: 300 }),
    );
  });

  it('places terms inside the canvas without overlaps, largest first and largest font', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({
      text: `term${i}`,
      count: 40 - i,
      weight: (40 - i) / 40,
    }));
    const layout = layoutWordCloud(many, { width: 500, height: 300 });
    expect(layout.placed.length + layout.omitted.length).toBe(40);
    expect(layout.placed[0]).toMatchObject({ text: 'term0', x: 250, fontSize: 56 });
    for (const [i, a] of layout.placed.entries()) {
      expect(a.x - a.width / 2).toBeGreaterThanOrEqual(0);
      expect(a.x + a.width / 2).toBeLessThanOrEqual(500);
      expect(a.y - a.height / 2).toBeGreaterThanOrEqual(0);
      expect(a.y + a.height / 2).toBeLessThanOrEqual(300);
      for (const b of layout.placed.slice(i + 1)) {
        const apart =
          a.x + a.width / 2 <= b.x - b.width / 2 + 0.2 ||
          b.x + b.width / 2 <= a.x - a.width / 2 + 0.2 ||
          a.y + a.height / 2 <= b.y - b.height / 2 + 0.2 ||
          b.y + b.height / 2 <= a.y - a.height / 2 + 0.2;
        expect(apart).toBe(true);
      }
    }
  });

  it('renders any term text as well-formed XML', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ text: fc.string({ minLength: 1, maxLength: 12 }), count: fc.nat(9) }), {
          maxLength: 8,
        }),
        (raw) => {
          const svg = renderWordCloudSvg(raw.map((r) => ({ ...r, weight: (r.count + 1) / 10 })));
          assertWellFormedXml(svg.replace(/\n/g, ''));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('escapes the five XML special characters and drops control characters', () => {
    expect(escapeXml(`<a href="x">'&'</a>\u0001`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;',
    );
  });
});
