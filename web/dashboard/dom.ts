/** Small DOM helpers. Text always goes in as text (never as HTML): event data is untrusted. */

type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

/** A figure: its name, its value as text, and optionally a tone (good/warn/bad) shown as well. */
export type Figure = [term: string, value: string, tone?: string];

export function figures(list: HTMLElement, items: Figure[]): void {
  fill(
    list,
    ...items.map(([term, value, tone]) =>
      h('div', { class: 'figure' }, h('dt', {}, term), h('dd', tone ? { class: `tone-${tone}` } : {}, value)),
    ),
  );
}

/** A table with a header row; cells are text or nodes. */
export function table(element: HTMLTableElement, headers: string[], rows: Child[][], empty: string): void {
  const head = h('thead', {}, h('tr', {}, ...headers.map((name) => h('th', { scope: 'col' }, name))));
  const body =
    rows.length === 0
      ? h('tbody', {}, h('tr', {}, h('td', { colspan: String(headers.length), class: 'empty' }, empty)))
      : h(
          'tbody',
          {},
          ...rows.map((cells) =>
            h('tr', {}, ...cells.map((cell, i) => h('td', { 'data-label': headers[i] ?? '' }, cell))),
          ),
        );
  element.replaceChildren(head, body);
}
