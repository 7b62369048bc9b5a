// Pure transformation of a unified line diff (GNU diff -u, as returned by
// GET /api/v1/agents/{id}/prompts/diff) into side-by-side rows: removed lines
// on the left, added lines on the right, unchanged lines on both. Within a run
// of changes, removed and added lines are paired row by row; the shorter side
// is padded with empty cells.

export interface Cell {
  /** 1-based line number in that version */
  line: number;
  text: string;
}

export type Row =
  | { kind: 'hunk'; header: string }
  | { kind: 'same'; left: Cell; right: Cell }
  | { kind: 'change'; left: Cell | null; right: Cell | null };

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

export function diffToColumns(diff: string): Row[] {
  const rows: Row[] = [];
  if (!diff) return rows;
  const lines = diff.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  let a = 0;
  let b = 0;
  let removed: Cell[] = [];
  let added: Cell[] = [];
  let inHunk = false;
  const flush = () => {
    const n = Math.max(removed.length, added.length);
    for (let i = 0; i < n; i++) rows.push({ kind: 'change', left: removed[i] ?? null, right: added[i] ?? null });
    removed = [];
    added = [];
  };
  for (const l of lines) {
    const m = HUNK.exec(l);
    if (m) {
      flush();
      inHunk = true;
      // A zero-length range names the line before; the next line is one after.
      a = Number(m[1]) + (m[2] === '0' ? 1 : 0);
      b = Number(m[3]) + (m[4] === '0' ? 1 : 0);
      rows.push({ kind: 'hunk', header: l });
      continue;
    }
    if (!inHunk) continue; // ---/+++ file headers
    if (l.startsWith('\\')) continue; // "\ No newline at end of file"
    const tag = l[0];
    const text = l.slice(1);
    if (tag === '-') removed.push({ line: a++, text });
    else if (tag === '+') added.push({ line: b++, text });
    else {
      flush();
      rows.push({ kind: 'same', left: { line: a++, text }, right: { line: b++, text } });
    }
  }
  flush();
  return rows;
}
