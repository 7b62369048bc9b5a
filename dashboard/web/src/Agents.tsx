import { useEffect, useRef, useState } from 'react';
import { ApiError, type Api } from './api';
import { apiErrorText, message, newAgentRequest, parseRouting, toggleTool, toolChoices } from './agentForm';
import { diffToColumns, type Cell } from './diff';
import { can } from './roles';
import type { Agent, PromptDiff, PromptList, Role } from './types';

// Agents lists agent profiles; supervisors and admins create and edit them
// (name, description, tools, routing), write new prompt versions and pick the
// live one. Everyone may compare two prompt versions side by side.
export function Agents({ api, role }: { api: Api; role: Role }) {
  const [agents, setAgents] = useState<Agent[]>([]);
  const [sel, setSel] = useState<string>('');
  const [creating, setCreating] = useState(false);
  // What went wrong after a new agent was created (its first prompt).
  const [notice, setNotice] = useState('');
  const [error, setError] = useState('');
  const editable = can.editAgents(role);
  const [known, setKnown] = useState<string[]>([]);
  useEffect(() => {
    api.agents().then((r) => setAgents(r.agents), (e) => setError(message(e)));
    api.tools().then((r) => setKnown(r.tools), (e) => setError(message(e)));
  }, []);
  const agent = agents.find((a) => a.id === sel) ?? null;
  const replace = (a: Agent) => setAgents((xs) => xs.map((x) => (x.id === a.id ? a : x)));
  const choices = toolChoices(known, agents);
  const select = (id: string) => {
    setCreating(false);
    setNotice('');
    setSel(id);
  };
  const created = (a: Agent, warning: string) => {
    setAgents((xs) => [...xs.filter((x) => x.id !== a.id), a]);
    setCreating(false);
    setSel(a.id);
    setNotice(warning);
  };
  return (
    <main className="agents">
      <section className="list">
        <h2>Agents</h2>
        {editable && (
          <button
            data-testid="agent-new"
            disabled={creating}
            onClick={() => {
              setNotice('');
              setSel('');
              setCreating(true);
            }}
          >
            New agent
          </button>
        )}
        {error && <p className="error">{error}</p>}
        {agents.map((a) => (
          <div
            key={a.id}
            data-testid="agent-item"
            data-agent-id={a.id}
            className={'row' + (a.id === sel ? ' selected' : '')}
            onClick={() => select(a.id)}
          >
            <strong>{a.name}</strong>
            <div className="muted">
              live v{a.live_version} · tools: {(a.tools ?? []).join(', ') || 'none'}
            </div>
          </div>
        ))}
      </section>
      <section className="detail">
        {notice && (
          <p className="error" role="alert" data-testid="agent-notice">
            {notice}
          </p>
        )}
        {creating && editable ? (
          <NewAgent api={api} toolNames={choices} onCreated={created} onCancel={() => setCreating(false)} />
        ) : agent ? (
          <AgentDetail key={agent.id} api={api} agent={agent} editable={editable} toolNames={choices} onAgent={replace} />
        ) : (
          <p className="muted">Select an agent.</p>
        )}
      </section>
    </main>
  );
}

/** The props of an existing agent's views: editable says whether the caller may change it, onAgent gets its newer record. */
interface AgentProps {
  api: Api;
  agent: Agent;
  editable: boolean;
  toolNames: string[];
  onAgent: (a: Agent) => void;
}

function AgentDetail({ api, agent, editable, toolNames, onAgent }: AgentProps) {
  const [prompts, setPrompts] = useState<PromptList | null>(null);
  const [error, setError] = useState('');
  const reload = () =>
    api.prompts(agent.id).then(
      (p) => {
        setPrompts(p);
        return p;
      },
      (e) => {
        setError(message(e));
        return null;
      },
    );
  useEffect(() => {
    reload();
  }, [agent.id]);
  const refreshAgent = () => api.agent(agent.id).then(onAgent, () => undefined);
  const makeLive = async (n: number) => {
    setError('');
    try {
      onAgent(await api.setLive(agent.id, n));
    } catch (e) {
      setError(message(e));
      if (e instanceof ApiError && e.status === 409) refreshAgent();
    }
    await reload();
  };
  return (
    <div className="agent-detail">
      <p className="muted">
        Live prompt version:{' '}
        <strong data-testid="live-version" data-version={agent.live_version}>
          {agent.live_version || 'none'}
        </strong>
      </p>
      <AgentForm api={api} agent={agent} editable={editable} toolNames={toolNames} onAgent={onAgent} />
      {error && <p className="error" role="alert">{error}</p>}
      {prompts && (
        <>
          <h3>Prompt versions</h3>
          {prompts.prompts.length === 0 && <p className="muted">No prompt versions yet.</p>}
          {prompts.prompts.map((p) => (
            <div key={p.id} className="prompt" data-testid="prompt-version" data-version={p.number}>
              <div>
                <strong>v{p.number}</strong> {p.live && <span className="badge">live</span>}{' '}
                <span className="muted small">
                  by {p.author_id} · {new Date(p.created_at).toLocaleString()}
                </span>{' '}
                {editable && !p.live && (
                  <button data-testid="make-live" data-version={p.number} onClick={() => makeLive(p.number)}>
                    Make live
                  </button>
                )}
              </div>
              <pre>{p.prompt}</pre>
            </div>
          ))}
          {editable && <NewPrompt api={api} agentId={agent.id} prompts={prompts} reload={reload} />}
          <DiffView api={api} agentId={agent.id} prompts={prompts} />
        </>
      )}
    </div>
  );
}

/** The editable fields of an agent, as typed (routing as JSON text). */
interface FieldsForm {
  name: string;
  description: string;
  tools: string[];
  routing: string;
}

// AgentFields is the editor of name, description, tools and routing rules,
// shared by the new-agent form and the edit form.
function AgentFields({
  form,
  setForm,
  editable,
  toolNames,
}: {
  form: FieldsForm;
  setForm: (f: FieldsForm) => void;
  editable: boolean;
  toolNames: string[];
}) {
  // A tool the agent has that is not offered (yet) still shows.
  const names = [...toolNames, ...form.tools.filter((t) => !toolNames.includes(t))];
  return (
    <>
      <label>
        Name
        <input data-testid="agent-name" value={form.name} readOnly={!editable} onChange={(e) => setForm({ ...form, name: e.target.value })} />
      </label>
      <label>
        Description
        <textarea
          data-testid="agent-description"
          value={form.description}
          readOnly={!editable}
          onChange={(e) => setForm({ ...form, description: e.target.value })}
        />
      </label>
      <fieldset>
        <legend>Tools</legend>
        {names.map((t) => (
          <label key={t} className="check">
            <input
              type="checkbox"
              data-testid="agent-tool"
              value={t}
              disabled={!editable}
              checked={form.tools.includes(t)}
              onChange={(e) => setForm({ ...form, tools: toggleTool(form.tools, t, e.target.checked) })}
            />{' '}
            {t}
          </label>
        ))}
      </fieldset>
      <label>
        Routing rules (JSON object)
        <textarea
          data-testid="agent-routing"
          className="code"
          value={form.routing}
          readOnly={!editable}
          onChange={(e) => setForm({ ...form, routing: e.target.value })}
        />
      </label>
      <p className="muted small">
        Which new conversations this agent takes, e.g. <code>{'{"priority": 10, "match": {"channels": ["whatsapp"], "languages": ["de"], "customer_tags_any": ["vip"]}}'}</code>;
        the highest priority that matches wins, else the agent with <code>{'{"default": true}'}</code>, else the oldest.
      </p>
    </>
  );
}

// NewAgent creates an agent (POST /api/v1/agents), then its first prompt
// version, made live unless unticked. An error of the create stays in the
// form; once the agent exists it is selected, with a notice if its prompt
// failed.
function NewAgent({
  api,
  toolNames,
  onCreated,
  onCancel,
}: {
  api: Api;
  toolNames: string[];
  onCreated: (a: Agent, warning: string) => void;
  onCancel: () => void;
}) {
  const [form, setForm] = useState<FieldsForm>({ name: '', description: '', tools: [], routing: '{}' });
  const [prompt, setPrompt] = useState('');
  const [makeLive, setMakeLive] = useState(true);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  const routing = parseRouting(form.routing);
  const save = async () => {
    if (inFlight.current) return;
    setError('');
    const req = newAgentRequest({ ...form, prompt });
    if (!req.ok) {
      setError(req.error);
      return;
    }
    inFlight.current = true;
    setBusy(true);
    let agent: Agent;
    try {
      agent = await api.createAgent(req.value.agent);
    } catch (e) {
      setError(apiErrorText(e));
      setBusy(false);
      inFlight.current = false;
      return;
    }
    // The agent exists from here on: it is selected whatever follows.
    let warning = '';
    try {
      const p = await api.createPrompt(agent.id, req.value.prompt);
      if (makeLive) {
        try {
          agent = await api.setLive(agent.id, p.number);
        } catch (e) {
          warning = `Agent "${agent.name}" and its prompt v${p.number} were created, but making it live failed: ${apiErrorText(e)}`;
        }
      }
    } catch (e) {
      warning = `Agent "${agent.name}" was created, but its first prompt was not saved: ${apiErrorText(e)}. Write it below.`;
    }
    onCreated(agent, warning);
  };
  return (
    <form
      className="agent-form new-agent"
      data-testid="agent-new-form"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <h3>New agent</h3>
      <AgentFields form={form} setForm={setForm} editable toolNames={toolNames} />
      {!routing.ok && <p className="error small">{routing.error}</p>}
      <label>
        First prompt (v1)
        <textarea data-testid="prompt-text" className="code" value={prompt} onChange={(e) => setPrompt(e.target.value)} />
      </label>
      <label className="check">
        <input type="checkbox" data-testid="agent-make-live" checked={makeLive} onChange={(e) => setMakeLive(e.target.checked)} /> Make v1 live
      </label>
      <div>
        <button data-testid="agent-save" type="submit" disabled={busy || !routing.ok || !form.name.trim() || !prompt.trim()}>
          Create agent
        </button>{' '}
        <button data-testid="agent-cancel" type="button" disabled={busy} onClick={onCancel}>
          Cancel
        </button>
      </div>
      {error && (
        <p className="error" role="alert" data-testid="agent-error">
          {error}
        </p>
      )}
    </form>
  );
}

function AgentForm({ api, agent, editable, toolNames, onAgent }: AgentProps) {
  const fromAgent = (a: Agent): FieldsForm => ({
    name: a.name,
    description: a.description,
    tools: [...(a.tools ?? [])],
    routing: JSON.stringify(a.routing ?? {}, null, 2),
  });
  const [form, setForm] = useState(() => fromAgent(agent));
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  // A newer record from elsewhere (make live, reload) refreshes the form.
  useEffect(() => setForm(fromAgent(agent)), [agent.version]);
  const routing = parseRouting(form.routing);
  const save = async () => {
    setError('');
    setNote('');
    if (!routing.ok) {
      setError(routing.error);
      return;
    }
    setBusy(true);
    try {
      const a = await api.updateAgent(agent.id, {
        version: agent.version,
        name: form.name,
        description: form.description,
        tools: form.tools,
        routing: routing.value,
      });
      onAgent(a);
      setForm(fromAgent(a));
      setNote('Saved.');
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        // Someone saved first: load their version; the user redoes the edit.
        try {
          const a = await api.agent(agent.id);
          onAgent(a);
          setForm(fromAgent(a));
        } catch {
          /* keep the form */
        }
        setError('This agent was changed by someone else; the latest version was loaded. Apply your change again.');
      } else {
        setError(message(e));
      }
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="agent-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (editable) save();
      }}
    >
      <AgentFields form={form} setForm={setForm} editable={editable} toolNames={toolNames} />
      {editable && !routing.ok && <p className="error small">{routing.error}</p>}
      {editable && (
        <button data-testid="agent-save" type="submit" disabled={busy || !routing.ok}>
          Save
        </button>
      )}
      {error && (
        <p className="error" role="alert" data-testid="agent-error">
          {error}
        </p>
      )}
      {note && (
        <span className="muted" data-testid="agent-saved">
          {' '}
          {note}
        </span>
      )}
    </form>
  );
}

function NewPrompt({ api, agentId, prompts, reload }: { api: Api; agentId: string; prompts: PromptList; reload: () => Promise<PromptList | null> }) {
  const latest = prompts.prompts.length ? prompts.prompts[prompts.prompts.length - 1] : null;
  const [text, setText] = useState(latest?.prompt ?? '');
  const [base, setBase] = useState(latest?.number ?? 0);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const create = async () => {
    setError('');
    setBusy(true);
    try {
      const p = await api.createPrompt(agentId, text, base || undefined);
      const fresh = await reload();
      setBase(fresh ? Math.max(0, ...fresh.prompts.map((x) => x.number)) : p.number);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        // Another version was committed first: reload it; the draft is kept
        // and will be based on the newest version when submitted again.
        const fresh = await reload();
        if (fresh) setBase(Math.max(0, ...fresh.prompts.map((x) => x.number)));
        setError('A newer prompt version was created meanwhile and has been loaded. Review it, then create again.');
      } else {
        setError(message(e));
      }
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="new-prompt">
      <h3>New version (v{base + 1})</h3>
      <textarea data-testid="prompt-text" className="code" value={text} onChange={(e) => setText(e.target.value)} />
      <button data-testid="prompt-create" disabled={busy || !text.trim()} onClick={create}>
        Create v{base + 1}
      </button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function DiffView({ api, agentId, prompts }: { api: Api; agentId: string; prompts: PromptList }) {
  const numbers = prompts.prompts.map((p) => p.number);
  const last = numbers.length ? numbers[numbers.length - 1] : 0;
  const [from, setFrom] = useState(numbers.length > 1 ? numbers[numbers.length - 2] : last);
  const [to, setTo] = useState(last);
  const [diff, setDiff] = useState<PromptDiff | null>(null);
  const [error, setError] = useState('');
  // A new version moves "to" to it, with the previous latest as "from".
  const prevLast = useRef(last);
  useEffect(() => {
    if (last !== prevLast.current) {
      if (prevLast.current) setFrom(prevLast.current);
      setTo(last);
      prevLast.current = last;
    }
  }, [last]);
  useEffect(() => {
    if (!from || !to) return;
    let live = true;
    setError('');
    api.promptDiff(agentId, from, to).then(
      (d) => live && setDiff(d),
      (e) => live && (setDiff(null), setError(message(e))),
    );
    return () => {
      live = false;
    };
  }, [agentId, from, to, last]);
  if (numbers.length === 0) return null;
  const rows = diff ? diffToColumns(diff.diff) : [];
  const cell = (c: Cell | null, side: 'left' | 'right', changed: boolean) => (
    <>
      <td className="ln">{c?.line ?? ''}</td>
      <td className={'code ' + (c && changed ? (side === 'left' ? 'del' : 'add') : c ? '' : 'empty')}>{c?.text ?? ''}</td>
    </>
  );
  return (
    <div className="diff">
      <h3>Compare versions</h3>
      <label>
        From{' '}
        <select data-testid="diff-from" value={from} onChange={(e) => setFrom(Number(e.target.value))}>
          {numbers.map((n) => (
            <option key={n} value={n}>
              v{n}
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        To{' '}
        <select data-testid="diff-to" value={to} onChange={(e) => setTo(Number(e.target.value))}>
          {numbers.map((n) => (
            <option key={n} value={n}>
              v{n}
            </option>
          ))}
        </select>
      </label>
      {error && <p className="error">{error}</p>}
      <div data-testid="diff-view" data-from={diff?.from} data-to={diff?.to}>
        {diff && (
          <p className="muted small">
            v{diff.from} → v{diff.to}: +{diff.added} −{diff.removed}
          </p>
        )}
        {diff && rows.length === 0 && <p className="muted">No differences.</p>}
        {rows.length > 0 && (
          <table className="diff-table">
            <thead>
              <tr>
                <th colSpan={2}>v{diff?.from}</th>
                <th colSpan={2}>v{diff?.to}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) =>
                r.kind === 'hunk' ? (
                  <tr key={i} className="hunk">
                    <td colSpan={4}>{r.header}</td>
                  </tr>
                ) : (
                  <tr key={i} data-kind={r.kind}>
                    {cell(r.left, 'left', r.kind === 'change')}
                    {cell(r.right, 'right', r.kind === 'change')}
                  </tr>
                ),
              )}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
