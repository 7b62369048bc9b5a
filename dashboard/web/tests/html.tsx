// Server-side rendering for component tests: the pages render to HTML in
// Node, and the tests read it by data-testid.

import type { ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

/**
 * render renders el to static HTML (no DOM, no jsdom) and answers queries on
 * it: the text of the elements with a data-testid, their opening tags, and
 * the whole text. No-break spaces read as spaces.
 */
export function render(el: ReactElement) {
  const html = renderToStaticMarkup(el).replace(/\u00a0/g, ' ');
  const text = (s: string) => s.replace(/<[^>]+>/g, '').replace(/&amp;/g, '&').replace(/&#x27;/g, "'").replace(/&quot;/g, '"');
  /** the text of each element with data-testid id */
  const byTestId = (id: string): string[] => {
    const out: string[] = [];
    const re = new RegExp(`<(\\w+)[^>]*data-testid="${id}"[^>]*>`, 'g');
    for (let m; (m = re.exec(html)); ) {
      const tag = m[1];
      // find the matching close tag, counting nested tags of the same name
      let depth = 1;
      const tre = new RegExp(`<${tag}[\\s>]|</${tag}>`, 'g');
      tre.lastIndex = m.index + m[0].length;
      let end = html.length;
      for (let t; (t = tre.exec(html)); ) {
        depth += t[0].startsWith('</') ? -1 : 1;
        if (depth === 0) {
          end = t.index;
          break;
        }
      }
      out.push(text(html.slice(m.index + m[0].length, end)));
    }
    return out;
  };
  /** the opening tag of each element with data-testid id */
  const tags = (id: string) => [...html.matchAll(new RegExp(`<\\w+[^>]*data-testid="${id}"[^>]*>`, 'g'))].map((m) => m[0]);
  return { html, byTestId, tags, text: text(html) };
}
