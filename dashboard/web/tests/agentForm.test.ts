import { expect, it } from 'vitest';
import { ApiError } from '../src/api';
import { apiErrorText, newAgentRequest, parseRouting, toggleTool, toolChoices } from '../src/agentForm';

const KNOWN_TOOLS = ['create_ticket', 'get_customer_profile', 'handoff_to_human'];

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

const draft = { name: ' Billing bot ', description: ' Answers invoices. ', tools: ['handoff_to_human', 'create_ticket'], routing: '{"channels":["whatsapp"]}', prompt: 'You answer billing questions.\n' };

it('builds the POST /api/v1/agents body and the first prompt from the form', () => {
  expect(newAgentRequest(draft)).toEqual({
    ok: true,
    value: {
      agent: { name: 'Billing bot', description: 'Answers invoices.', tools: ['create_ticket', 'handoff_to_human'], routing: { channels: ['whatsapp'] } },
      prompt: 'You answer billing questions.\n',
    },
  });
  const blank = newAgentRequest({ ...draft, routing: '  ', tools: [] });
  expect(blank.ok && blank.value.agent).toMatchObject({ tools: [], routing: {} });
});

it('refuses a new agent without a name, with bad routing or without a prompt, before sending', () => {
  expect(newAgentRequest({ ...draft, name: '   ' })).toEqual({ ok: false, error: 'name is required' });
  const r = newAgentRequest({ ...draft, routing: '[1]' });
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.error).toMatch(/JSON object/);
  expect(newAgentRequest({ ...draft, prompt: ' \n ' })).toEqual({ ok: false, error: 'the first prompt is required' });
});

it('offers the known tools first, then any other tool an agent already has', () => {
  expect(toolChoices(KNOWN_TOOLS, [])).toEqual(KNOWN_TOOLS);
  expect(toolChoices(KNOWN_TOOLS, [{ tools: ['zeta', 'create_ticket'] }, { tools: null }, { tools: ['alpha', 'zeta'] }])).toEqual([...KNOWN_TOOLS, 'alpha', 'zeta']);
});

it('toggles a tool keeping the list sorted and unique', () => {
  expect(toggleTool(['handoff_to_human'], 'create_ticket', true)).toEqual(['create_ticket', 'handoff_to_human']);
  expect(toggleTool(['create_ticket', 'handoff_to_human'], 'create_ticket', true)).toEqual(['create_ticket', 'handoff_to_human']);
  expect(toggleTool(['create_ticket', 'handoff_to_human'], 'create_ticket', false)).toEqual(['handoff_to_human']);
});

it('shows API errors with what the user can do about them', () => {
  expect(apiErrorText(new ApiError(400, 'invalid', 'unknown tool "x"; known tools: a, b'))).toBe('Rejected: unknown tool "x"; known tools: a, b');
  expect(apiErrorText(new ApiError(409, 'duplicate', 'already exists'))).toBe('Conflict: already exists');
  expect(apiErrorText(new ApiError(403, 'forbidden', 'forbidden'))).toMatch(/role may not/);
  expect(apiErrorText(new Error('network down'))).toBe('network down');
});
