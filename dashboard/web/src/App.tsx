import { useEffect, useMemo, useState } from 'react';
import { Api, loadSession, login, saveSession, type Session } from './api';
import { Approvals, useApprovals } from './Approvals';
import { LiveHub } from './hub';
import { Inbox } from './Inbox';
import { Agents } from './Agents';
import { Customers } from './Customers';
import { Team } from './Team';
import { Shops } from './Shops';
import { customerHref, customerIdFromPath } from './timeline';
import { can } from './roles';
import { Knowledge } from './Knowledge';
import { Coverage } from './Coverage';
import { docHref, docIdFromSearch } from './knowledge';

/** usePath follows the location: its path and its query (?doc=… on the Knowledge page); go pushes a path that may carry a query. */
function usePath(): [string, string, (p: string) => void] {
  const [path, setPath] = useState(window.location.pathname);
  const [search, setSearch] = useState(window.location.search);
  useEffect(() => {
    const on = () => {
      setPath(window.location.pathname);
      setSearch(window.location.search);
    };
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  const go = (p: string) => {
    if (p !== window.location.pathname + window.location.search) window.history.pushState(null, '', p);
    setPath(window.location.pathname);
    setSearch(window.location.search);
  };
  return [path, search, go];
}

/** POLL_MS is how often the live connection's fallback polls when an answer came back empty. */
const POLL_MS = 2000;

/** useLive holds the tab's one live connection while signed in (null before it starts and after sign-out). */
function useLive(token: string | undefined): LiveHub | null {
  const [hub, setHub] = useState<LiveHub | null>(null);
  useEffect(() => {
    if (!token) return;
    const h = new LiveHub({ token, pollMs: POLL_MS });
    h.start();
    (window as any).__frontdesk = { live: h.client };
    setHub(h);
    return () => {
      h.stop();
      setHub(null);
    };
  }, [token]);
  return hub;
}

const PAGES = ['/inbox', '/agents', '/customers', '/team', '/settings/shops', '/approvals', '/knowledge'];

export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [path, search, go] = usePath();
  const token = session?.token;
  const api = useMemo(() => (token ? new Api(token) : null), [token]);
  const live = useLive(token);
  const role = session?.user.role;
  const signOut = () => {
    api?.logout().catch(() => undefined);
    saveSession(null);
    setSession(null);
    go('/login');
  };
  const approvals = useApprovals(api, live, !!role && can.approve(role), signOut);

  if (!session || !api || !role) {
    return (
      <Login
        onLogin={(s) => {
          saveSession(s);
          setSession(s);
          if (!PAGES.some((p) => path.startsWith(p))) go('/inbox');
        }}
      />
    );
  }
  const onAgents = path.startsWith('/agents');
  const onCustomers = path === '/customers' || path.startsWith('/customers/');
  const onTeam = path === '/team';
  const onShops = path === '/settings/shops';
  const onApprovals = path === '/approvals';
  const onCoverage = path === '/knowledge/coverage';
  const onKnowledge = path === '/knowledge';
  const onInbox = !onAgents && !onCustomers && !onTeam && !onShops && !onApprovals && !onKnowledge && !onCoverage;
  const waiting = approvals.list?.length ?? 0;
  return (
    <div className="app">
      <nav className="nav">
        <strong className="brand">frontdesk</strong>
        <a href="/inbox" className={onInbox ? 'active' : ''} onClick={(e) => (e.preventDefault(), go('/inbox'))}>
          Inbox
        </a>
        <a href="/customers" data-testid="nav-customers" className={onCustomers ? 'active' : ''} onClick={(e) => (e.preventDefault(), go('/customers'))}>
          Customers
        </a>
        {can.viewAgents(role) && (
          <a href="/agents" className={onAgents ? 'active' : ''} onClick={(e) => (e.preventDefault(), go('/agents'))}>
            Agents
          </a>
        )}
        {can.viewTeam(role) && (
          <a href="/team" data-testid="nav-team" className={onTeam ? 'active' : ''} onClick={(e) => (e.preventDefault(), go('/team'))}>
            Team
          </a>
        )}
        {can.viewShops(role) && (
          <a href="/settings/shops" data-testid="nav-shops" className={onShops ? 'active' : ''} onClick={(e) => (e.preventDefault(), go('/settings/shops'))}>
            Shops
          </a>
        )}
        {can.viewKnowledge(role) && (
          <a href="/knowledge" data-testid="nav-knowledge" className={onKnowledge ? 'active' : ''} onClick={(e) => (e.preventDefault(), go('/knowledge'))}>
            Knowledge
          </a>
        )}
        {can.viewKnowledge(role) && (
          <a href="/knowledge/coverage" data-testid="nav-coverage" className={onCoverage ? 'active' : ''} onClick={(e) => (e.preventDefault(), go('/knowledge/coverage'))}>
            Coverage
          </a>
        )}
        {can.approve(role) && (
          <a
            href="/approvals"
            data-testid="nav-approvals"
            className={onApprovals ? 'active' : ''}
            title={waiting ? `${waiting} awaiting approval` : 'Nothing awaits approval'}
            onClick={(e) => (e.preventDefault(), go('/approvals'))}
          >
            Approvals
            {waiting > 0 && (
              <span className="badge nav-count" data-testid="nav-approvals-count" aria-label={`${waiting} awaiting approval`}>
                {waiting}
              </span>
            )}
          </a>
        )}
        <span className="spacer" />
        <span className="me" data-testid="me">
          {session.user.name} · {role}
        </span>
        <button onClick={signOut}>Sign out</button>
      </nav>
      {!live ? (
        <main className="detail muted">Connecting…</main>
      ) : onApprovals ? (
        <Approvals
          api={api}
          role={role}
          queue={approvals}
          onOpenConversation={(id) => go(`/inbox/${encodeURIComponent(id)}`)}
          onOpenCustomer={(id) => go(customerHref(id))}
          onUnauthorized={signOut}
        />
      ) : onKnowledge ? (
        <Knowledge api={api} role={role} docId={docIdFromSearch(search)} onSelectDoc={(id) => go(id ? docHref(id) : '/knowledge')} onUnauthorized={signOut} />
      ) : onCoverage ? (
        <Coverage api={api} onOpenConversation={(id) => go(`/inbox/${encodeURIComponent(id)}`)} onUnauthorized={signOut} />
      ) : onShops ? (
        <Shops api={api} role={role} onUnauthorized={signOut} />
      ) : onTeam ? (
        <Team api={api} role={role} />
      ) : onAgents ? (
        <Agents api={api} role={role} />
      ) : onCustomers ? (
        <Customers
          api={api}
          live={live}
          me={session.user}
          customerId={customerIdFromPath(path)}
          onSelect={(id) => go(customerHref(id))}
          onOpenConversation={(id) => go(`/inbox/${encodeURIComponent(id)}`)}
          onUnauthorized={signOut}
        />
      ) : (
        <Inbox
          api={api}
          session={session}
          live={live}
          openId={decodeURIComponent(path.replace(/^\/inbox\/?/, ''))}
          onOpen={(id) => go(id ? `/inbox/${encodeURIComponent(id)}` : '/inbox')}
          onUnauthorized={signOut}
        />
      )}
    </div>
  );
}

function Login({ onLogin }: { onLogin: (s: Session) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="login"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError('');
        try {
          const r = await login(email, password);
          onLogin({ token: r.token, user: r.user });
        } catch (err) {
          setError((err as Error).message || 'sign-in failed');
        } finally {
          setBusy(false);
        }
      }}
    >
      <h1>frontdesk</h1>
      <label>
        Email
        <input data-testid="login-email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} required />
      </label>
      <label>
        Password
        <input data-testid="login-password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
      </label>
      <button data-testid="login-submit" type="submit" disabled={busy}>
        Sign in
      </button>
      {error && <p className="error" role="alert">{error}</p>}
    </form>
  );
}
