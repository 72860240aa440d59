/**
 * Just enough of Bicep's syntax to check the templates in infra/ without a Bicep compiler:
 * comments, strings ('...' with backslash escapes, '''...'''), brace/bracket nesting, and the
 * top-level declarations (param, var, resource, module, output) with their bodies.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Declaration {
  kind: 'param' | 'var' | 'resource' | 'module' | 'output';
  name: string;
  /** Text after the name up to the end of the declaration (type, `=`, value or body). */
  rest: string;
  /** resource: 'Type@version' (or a relative type for a nested child); module: its path. */
  target?: string;
  /** The `{...}` / `[...]` body of a resource, module or object/array var, braces included. */
  body?: string;
  /** Decorators (`@secure()`, `@minLength(24)` ...) written right before the declaration. */
  decorators: string[];
}

export interface BicepFile {
  /** Path relative to infra/, with forward slashes. */
  rel: string;
  text: string;
  /** The text with comments blanked out (same length, strings untouched). */
  code: string;
  declarations: Declaration[];
}

/** Blanks out // and /* *\/ comments, leaving strings (where `//` is common) intact. */
export function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("'''", i)) {
      const end = text.indexOf("'''", i + 3);
      const stop = end < 0 ? text.length : end + 3;
      out += text.slice(i, stop);
      i = stop;
    } else if (text[i] === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== "'") j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else {
      out += text[i];
      i++;
    }
  }
  return out;
}

/** Index just past the string literal starting at `i`. */
function skipString(code: string, i: number): number {
  if (code.startsWith("'''", i)) {
    const end = code.indexOf("'''", i + 3);
    return end < 0 ? code.length : end + 3;
  }
  let j = i + 1;
  while (j < code.length && code[j] !== "'") j += code[j] === '\\' ? 2 : 1;
  return j + 1;
}

/** The index of the bracket closing the one at `open` (`{`, `[` or `(`), skipping strings. */
export function matchingClose(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length;) {
    const c = code[i] as string;
    if (c === "'") {
      i = skipString(code, i);
      continue;
    }
    if (c === '{' || c === '[' || c === '(') depth++;
    else if (c === '}' || c === ']' || c === ')') {
      depth--;
      if (depth === 0) return i;
    }
    i++;
  }
  throw new Error(`Unbalanced bracket at offset ${open}`);
}

const DECLARATION = /^(param|var|resource|module|output)\s+(\w+)\b/gm;

/** The decorators (`@name(...)`, possibly spanning lines) at the very end of `text`. */
function trailingDecorators(text: string): string[] {
  for (const m of text.matchAll(/^[ \t]*@/gm)) {
    const decorators: string[] = [];
    let i = m.index;
    let ok = true;
    while (ok) {
      const rest = text.slice(i);
      const ws = /^\s*/.exec(rest)?.[0].length ?? 0;
      if (i + ws >= text.length) break;
      const head = /^@\w+\(/.exec(rest.slice(ws));
      if (!head) {
        ok = false;
        break;
      }
      const open = i + ws + head[0].length - 1;
      const close = matchingClose(text, open);
      decorators.push(text.slice(i + ws, close + 1));
      i = close + 1;
    }
    if (ok) return decorators;
  }
  return [];
}

export function parseDeclarations(code: string): Declaration[] {
  const found: { kind: Declaration['kind']; name: string; start: number; nameEnd: number }[] = [];
  for (const m of code.matchAll(DECLARATION)) {
    found.push({
      kind: m[1] as Declaration['kind'],
      name: m[2] as string,
      start: m.index,
      nameEnd: m.index + m[0].length,
    });
  }
  return found.map((d, k) => {
    const end = k + 1 < found.length ? (found[k + 1] as { start: number }).start : code.length;
    // Decorators sit on the lines between the previous declaration's end and this one.
    let rest = code.slice(d.nameEnd, end);
    const decorators: string[] = [];
    const decoratorStart = rest.search(/\n\s*@/);
    if (decoratorStart >= 0 && d.kind !== 'resource' && d.kind !== 'module') {
      // (decorators of the *next* declaration trail this one's text; cut them off)
      rest = rest.slice(0, decoratorStart);
    }
    const before = code.slice(k > 0 ? (found[k - 1] as { nameEnd: number }).nameEnd : 0, d.start);
    decorators.push(...trailingDecorators(before));
    const decl: Declaration = { kind: d.kind, name: d.name, rest, decorators };
    const target = /^\s+'([^']+)'/.exec(rest);
    if ((d.kind === 'resource' || d.kind === 'module') && target) decl.target = target[1];
    const eq = rest.indexOf('=');
    if (eq >= 0 && d.kind !== 'param' && d.kind !== 'output') {
      const open = rest.slice(eq).search(/[{[]/);
      const firstValueChar = rest.slice(eq + 1).trimStart()[0];
      const isBlock =
        d.kind === 'resource' || d.kind === 'module' || firstValueChar === '{' || firstValueChar === '[';
      if (open >= 0 && isBlock) {
        const absOpen = d.nameEnd + eq + open;
        decl.body = code.slice(absOpen, matchingClose(code, absOpen) + 1);
      }
    }
    return decl;
  });
}

export function parseBicep(rel: string, text: string): BicepFile {
  const code = stripComments(text);
  return { rel, text, code, declarations: parseDeclarations(code) };
}

export function loadBicepFiles(infraDir: string): BicepFile[] {
  const files: BicepFile[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.bicep')) {
        files.push(
          parseBicep(path.relative(infraDir, full).split(path.sep).join('/'), fs.readFileSync(full, 'utf8')),
        );
      }
    }
  };
  walk(infraDir);
  return files.sort((a, b) => a.rel.localeCompare(b.rel));
}

export interface Entry {
  key: string;
  value: string;
}

/**
 * The `key: value` entries directly inside an object literal `{...}` (braces included). Entries are
 * separated by newlines or commas at the top level; values keep their nested text.
 */
export function objectEntries(block: string): Entry[] {
  const inner = block.trim().replace(/^\{/, '').replace(/\}$/, '');
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = 0; i < inner.length;) {
    const c = inner[i] as string;
    if (c === "'") {
      const j = skipString(inner, i);
      current += inner.slice(i, j);
      i = j;
      continue;
    }
    if (c === '{' || c === '[' || c === '(') depth++;
    if (c === '}' || c === ']' || c === ')') depth--;
    if (depth === 0 && (c === '\n' || c === ',')) {
      parts.push(current);
      current = '';
    } else current += c;
    i++;
  }
  parts.push(current);
  const entries: Entry[] = [];
  for (const part of parts) {
    const text = part.trim();
    if (text === '') continue;
    const m = /^('(?:[^'\\]|\\.)*'|[A-Za-z_]\w*)\s*:\s*([\s\S]*)$/.exec(text);
    if (!m) throw new Error(`Not an object entry: ${text}`);
    const key = (m[1] as string).startsWith("'") ? unquote(m[1] as string) : (m[1] as string);
    entries.push({ key, value: (m[2] as string).trim() });
  }
  return entries;
}

/** The value of `key` in an object literal, or undefined. */
export function entry(block: string, key: string): string | undefined {
  return objectEntries(block).find((e) => e.key === key)?.value;
}

/** Follows a dotted path of keys through nested object literals: `prop(body, 'properties', 'sku')`. */
export function prop(block: string, ...keys: string[]): string | undefined {
  let current: string | undefined = block;
  for (const key of keys) {
    if (current === undefined || !current.trim().startsWith('{')) return undefined;
    current = entry(current, key);
  }
  return current;
}

function unquote(literal: string): string {
  return literal.slice(1, -1).replace(/\\(.)/g, (_, ch: string) => ({ n: '\n', r: '\r', t: '\t' })[ch] ?? ch);
}

/** A plain string literal's value (no interpolation), else undefined. */
export function stringLiteral(value: string): string | undefined {
  const v = value.trim();
  if (!/^'(?:[^'\\]|\\.)*'$/.test(v) || v.includes('${')) return undefined;
  return unquote(v);
}

export function declaration(file: BicepFile, kind: Declaration['kind'], name: string): Declaration {
  const d = file.declarations.find((x) => x.kind === kind && x.name === name);
  if (!d) throw new Error(`${file.rel}: no ${kind} ${name}`);
  return d;
}

export function ofKind(file: BicepFile, kind: Declaration['kind']): Declaration[] {
  return file.declarations.filter((d) => d.kind === kind);
}

/** `param name type = default`: the default value text, or undefined for a required param. */
export function paramDefault(d: Declaration): string | undefined {
  const m = /^\s+[\w.]+\s*=\s*([^\n]+)/.exec(d.rest);
  return m ? (m[1] as string).trim() : undefined;
}

/** Resources declared in a file, nested children included: symbol, type and body. */
export function resources(
  file: BicepFile,
): { symbol: string; type: string; existing: boolean; body: string }[] {
  const out: { symbol: string; type: string; existing: boolean; body: string }[] = [];
  for (const m of file.code.matchAll(/^\s*resource\s+(\w+)\s+'([^']+)'\s*(existing\s*)?=\s*/gm)) {
    const after = m.index + m[0].length;
    const open = file.code.slice(after).search(/[{[]/);
    const absOpen = after + open;
    out.push({
      symbol: m[1] as string,
      type: m[2] as string,
      existing: m[3] !== undefined,
      body: file.code.slice(absOpen, matchingClose(file.code, absOpen) + 1),
    });
  }
  return out;
}

/** For a looped resource `[ for x in xs: { ... } ]`, the `{...}` element body; else the body itself. */
export function elementBody(body: string): string {
  if (!body.startsWith('[')) return body;
  const open = body.indexOf('{');
  return body.slice(open, matchingClose(body, open) + 1);
}
