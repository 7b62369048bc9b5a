import { useEffect, useRef, useState } from 'react';
import { ApiError, type Api } from './api';
import { KNOWN_TOOLS, message, parseRouting } from './agentForm';
import { diffToColumns, type Cell } from './diff';
import { can } from './roles';
import type { Agent, PromptDiff, PromptList, Role } from './types';

// Agents lists agent profiles; supervisors and admins edit them (name,
// description, tools, routing), write new prompt versions and pick the live
// one. Everyone may compare two prompt versions side by side.
export function Agents({ api, role }: { api: Api; role: Role }) {
  const [agents, setAgents] = useState<Agent[]>([]);
  const [sel, setSel] = useState<string>('');
  const [error, setError] = useState('');
  useEffect(() => {
    api.agents().then((r) => setAgents(r.agents), (e) => setError(message(e)));
  }, []);
  const agent = agents.find((a) => a.id === sel) ?? null;
  const replace = (a: Agent) => setAgents((xs) => xs.map((x) => (x.id === a.id ? a : x)));
  return (
    <main className="agents">
      <section className="list">
        <h2>Agents</h2>
        {error && <p className="error">{error}</p>}
        {agents.map((a) => (
          <div key={a.id} data-testid="agent-item" className={'row' + (a.id === sel ? ' selected' : '')} onClick={() => setSel(a.id)}>
            <strong>{a.name}</strong>
            <div className="muted">
              live v{a.live_version} · tools: {(a.tools ?? []).join(', ') || 'none'}
            </div>
          </div>
        ))}
      </section>
      <section className="detail">
        {agent ? (
          <AgentDetail key={agent.id} api={api} agent={agent} editable={can.editAgents(role)} onAgent={replace} />
        ) : (
          <p className="muted">Select an agent.</p>
        )}
      </section>
    </main>
  );
}

function AgentDetail({ api, agent, editable, onAgent }: { api: Api; agent: Agent; editable: boolean; onAgent: (a: Agent) => void }) {
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
      <AgentForm api={api} agent={agent} editable={editable} onAgent={onAgent} />
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

function AgentForm({ api, agent, editable, onAgent }: { api: Api; agent: Agent; editable: boolean; onAgent: (a: Agent) => void }) {
  const fromAgent = (a: Agent) => ({
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
  const toolNames = [...KNOWN_TOOLS, ...(agent.tools ?? []).filter((t) => !KNOWN_TOOLS.includes(t))];
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
        {toolNames.map((t) => (
          <label key={t} className="check">
            <input
              type="checkbox"
              data-testid="agent-tool"
              value={t}
              disabled={!editable}
              checked={form.tools.includes(t)}
              onChange={(e) =>
                setForm({ ...form, tools: e.target.checked ? [...form.tools, t].sort() : form.tools.filter((x) => x !== t) })
              }
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
      {editable && !routing.ok && <p className="error small">{routing.error}</p>}
      {editable && (
        <button data-testid="agent-save" type="submit" disabled={busy || !routing.ok}>
          Save
        </button>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {note && <span className="muted"> {note}</span>}
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
