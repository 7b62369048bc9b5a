import { expect, it } from 'vitest';
import { KNOWN_TOOLS, parseRouting } from '../src/agentForm';

it('accepts a JSON object or blank as routing rules', () => {
  expect(parseRouting('')).toEqual({ ok: true, value: {} });
  expect(parseRouting(' {"channels": ["whatsapp"], "priority": 2} ')).toEqual({ ok: true, value: { channels: ['whatsapp'], priority: 2 } });
});

it('rejects invalid JSON and non-objects before saving', () => {
  expect(parseRouting('{channels:').ok).toBe(false);
  for (const t of ['[]', 'null', '3', '"x"']) {
    const r = parseRouting(t);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/JSON object/);
  }
});

it('lists the tool names the API accepts', () => {
  expect(KNOWN_TOOLS).toEqual(['get_customer_profile', 'create_ticket', 'handoff_to_human']);
});
