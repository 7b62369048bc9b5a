import { describe, expect, it } from 'vitest';
import { diffToColumns } from '../src/diff';

describe('diffToColumns', () => {
  it('returns no rows for an empty diff (equal versions)', () => {
    expect(diffToColumns('')).toEqual([]);
  });

  it('puts removed lines left, added right, unchanged on both', () => {
    const d = ['--- v1', '+++ v2', '@@ -1,3 +1,3 @@', ' keep', '-old', '+new', ' tail', ''].join('\n');
    expect(diffToColumns(d)).toEqual([
      { kind: 'hunk', header: '@@ -1,3 +1,3 @@' },
      { kind: 'same', left: { line: 1, text: 'keep' }, right: { line: 1, text: 'keep' } },
      { kind: 'change', left: { line: 2, text: 'old' }, right: { line: 2, text: 'new' } },
      { kind: 'same', left: { line: 3, text: 'tail' }, right: { line: 3, text: 'tail' } },
    ]);
  });

  it('pads the shorter side of an uneven change run', () => {
    const d = ['--- v1', '+++ v2', '@@ -1,2 +1,3 @@', '-a', '+x', '+y', '+z', ' c', ''].join('\n');
    const rows = diffToColumns(d);
    expect(rows.slice(1)).toEqual([
      { kind: 'change', left: { line: 1, text: 'a' }, right: { line: 1, text: 'x' } },
      { kind: 'change', left: null, right: { line: 2, text: 'y' } },
      { kind: 'change', left: null, right: { line: 3, text: 'z' } },
      { kind: 'same', left: { line: 2, text: 'c' }, right: { line: 4, text: 'c' } },
    ]);
  });

  it('handles pure additions and deletions with zero-length ranges', () => {
    const add = diffToColumns(['--- v1', '+++ v2', '@@ -0,0 +1,2 @@', '+one', '+two', ''].join('\n'));
    expect(add.slice(1)).toEqual([
      { kind: 'change', left: null, right: { line: 1, text: 'one' } },
      { kind: 'change', left: null, right: { line: 2, text: 'two' } },
    ]);
    const del = diffToColumns(['--- v1', '+++ v2', '@@ -3 +2,0 @@', '-gone', ''].join('\n'));
    expect(del.slice(1)).toEqual([{ kind: 'change', left: { line: 3, text: 'gone' }, right: null }]);
  });

  it('keeps hunks apart, tracks line numbers and skips no-newline markers', () => {
    const d = [
      '--- v1',
      '+++ v2',
      '@@ -1,2 +1,2 @@',
      '-a',
      '+A',
      ' b',
      '@@ -10,2 +10,2 @@',
      ' j',
      '-k',
      '\\ No newline at end of file',
      '+K',
      '\\ No newline at end of file',
      '',
    ].join('\n');
    const rows = diffToColumns(d);
    expect(rows.filter((r) => r.kind === 'hunk')).toHaveLength(2);
    expect(rows[rows.length - 1]).toEqual({ kind: 'change', left: { line: 11, text: 'k' }, right: { line: 11, text: 'K' } });
    expect(rows[4]).toEqual({ kind: 'same', left: { line: 10, text: 'j' }, right: { line: 10, text: 'j' } });
  });

  it('keeps lines that look like headers inside a hunk', () => {
    const d = ['--- v1', '+++ v2', '@@ -1 +1 @@', '--- x', '+++ y', ''].join('\n');
    expect(diffToColumns(d).slice(1)).toEqual([{ kind: 'change', left: { line: 1, text: '-- x' }, right: { line: 1, text: '++ y' } }]);
  });
});
