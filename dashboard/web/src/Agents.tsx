import { useEffect, useState } from 'react';
import type { Api } from './api';
import { can } from './roles';
import type { Role } from './types';

// Agents lists agent profiles and their prompt versions; supervisors and
// admins can make a version live. (Editing, diff view and routing rules: not yet.)
export function Agents({ api, role }: { api: Api; role: Role }) {
  const [agents, setAgents] = useState<any[]>([]);
  const [sel, setSel] = useState<string>('');
  const [prompts, setPrompts] = useState<{ live_version: number; prompts: any[] } | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api.agents().then((r) => setAgents(r.agents), (e) => setError(String(e.message)));
  }, []);
  useEffect(() => {
    if (sel) api.prompts(sel).then(setPrompts, (e) => setError(String(e.message)));
  }, [sel]);
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
        {prompts &&
          prompts.prompts.map((p) => (
            <div key={p.id} className="prompt">
              <div>
                <strong>v{p.number}</strong> {p.live && <span className="badge">live</span>}{' '}
                {can.editAgents(role) && !p.live && (
                  <button
                    onClick={async () => {
                      await api.setLive(sel, p.number);
                      setPrompts(await api.prompts(sel));
                    }}
                  >
                    Make live
                  </button>
                )}
              </div>
              <pre>{p.prompt}</pre>
            </div>
          ))}
      </section>
    </main>
  );
}
