// Small pieces shared by the pages: a localized time and a status badge.

import type { ReactNode } from 'react';

/** When shows an RFC 3339 time in the viewer's locale ("—" when it is not a time); precise adds the seconds. */
export function When({ at, locale, precise = false }: { at: string | null | undefined; locale?: string; precise?: boolean }) {
  const d = new Date(at ?? '');
  if (!at || Number.isNaN(d.getTime())) return <span className="muted">—</span>;
  return (
    <time dateTime={at} title={d.toISOString()}>
      {d.toLocaleString(locale, { dateStyle: 'medium', timeStyle: precise ? 'medium' : 'short' })}
    </time>
  );
}

/**
 * Badge is a coloured pill whose text always says what the colour means;
 * every tone's text and background keep a contrast of at least 4.5:1
 * (style.css, held by tests/commerce.test.ts).
 */
export function Badge({ tone, children, testid, title }: { tone: string; children: ReactNode; testid?: string; title?: string }) {
  return (
    <span className={'pill tone-' + tone} data-testid={testid} data-tone={tone} title={title}>
      {children}
    </span>
  );
}
