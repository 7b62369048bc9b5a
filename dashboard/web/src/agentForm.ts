// Pure helpers for the agent editor (src/Agents.tsx).

import { ApiError } from './api';

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Parse the routing textarea: blank is {}, otherwise a JSON object. Returns an error string on failure. */
export function parseRouting(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  if (!text.trim()) return { ok: true, value: {} };
  try {
    const v = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { ok: false, error: 'routing rules must be a JSON object' };
    return { ok: true, value: v as Record<string, unknown> };
  } catch (e) {
    return { ok: false, error: 'routing rules are not valid JSON: ' + message(e) };
  }
}

/**
 * The tool checkboxes to offer: the registry's names (GET /api/v1/tools) in
 * their order, then any other name some agent already allows (a tool since
 * removed), sorted, so that saving never drops it silently.
 */
export function toolChoices(known: string[], agents: { tools: string[] | null }[]): string[] {
  const extra = new Set<string>();
  for (const a of agents) for (const t of a.tools ?? []) if (!known.includes(t)) extra.add(t);
  return [...known, ...[...extra].sort()];
}

/** tools with t switched on or off: de-duplicated and sorted, as the API stores them. */
export function toggleTool(tools: string[], t: string, on: boolean): string[] {
  const out = tools.filter((x) => x !== t);
  if (on) out.push(t);
  return [...new Set(out)].sort();
}

/** The new-agent form as typed. */
export interface NewAgentDraft {
  name: string;
  description: string;
  tools: string[];
  /** routing rules as JSON text */
  routing: string;
  /** the first prompt version */
  prompt: string;
}

export interface NewAgentRequest {
  /** body of POST /api/v1/agents */
  agent: { name: string; description: string; tools: string[]; routing: Record<string, unknown> };
  /** body text of the first POST /api/v1/agents/{id}/prompts */
  prompt: string;
}

/**
 * Check the new-agent form before anything is sent: a name, routing rules
 * that are a JSON object, and a first prompt are required. The server checks
 * the rest (lengths, tool names) and its 400 is shown as is.
 */
export function newAgentRequest(d: NewAgentDraft): { ok: true; value: NewAgentRequest } | { ok: false; error: string } {
  const name = d.name.trim();
  if (!name) return { ok: false, error: 'name is required' };
  const routing = parseRouting(d.routing);
  if (!routing.ok) return routing;
  if (!d.prompt.trim()) return { ok: false, error: 'the first prompt is required' };
  return {
    ok: true,
    value: { agent: { name, description: d.description.trim(), tools: [...new Set(d.tools)].sort(), routing: routing.value }, prompt: d.prompt },
  };
}

/** The text to show for a failed write: the server's message, with its status for the cases a user can act on. */
export function apiErrorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 403) return 'Your role may not change agents.';
    if (e.status === 400) return `Rejected: ${e.message}`;
    if (e.status === 409) return `Conflict: ${e.message}`;
    if (e.status === 413) return 'Too large: shorten the text and try again.';
  }
  return message(e);
}
