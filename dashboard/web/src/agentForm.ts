// Pure helpers for the agent editor (src/Agents.tsx).

// The tool names the API accepts in an agent's allow-list (tools/builtins.go).
// No endpoint lists them, so they are hard-coded here; any other name an agent
// already has is shown too so that saving never drops it silently.
export const KNOWN_TOOLS = ['get_customer_profile', 'create_ticket', 'handoff_to_human'];

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

