import { useEffect, useState } from 'react';
import { ApiError, type Api } from './api';
import { can } from './roles';
import type { Role, User } from './types';

const roles: Role[] = ['agent', 'supervisor', 'analyst', 'admin'];

// Team lists the tenant's users for supervisors and admins; admins add users
// with a role (the API answers 403 to anyone else, and the page says so).
export function Team({ api, role }: { api: Api; role: Role }) {
  const [users, setUsers] = useState<User[]>([]);
  const [error, setError] = useState('');
  useEffect(() => {
    if (can.viewTeam(role)) api.users().then(setUsers, (e) => setError((e as Error).message));
  }, []);
  if (!can.viewTeam(role)) {
    return (
      <main className="team detail">
        <p className="muted">The team page is for supervisors and admins.</p>
      </main>
    );
  }
  return (
    <main className="team detail">
      <h2>Team</h2>
      {error && <p className="error">{error}</p>}
      <table className="team-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Email</th>
            <th>Role</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id} data-testid="team-row" data-user-id={u.id}>
              <td>{u.name}</td>
              <td>{u.email}</td>
              <td>{u.role}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {can.createUsers(role) && <NewUser api={api} onCreated={(u) => setUsers((xs) => [...xs, u])} />}
    </main>
  );
}

function NewUser({ api, onCreated }: { api: Api; onCreated: (u: User) => void }) {
  const empty = { email: '', name: '', role: 'agent' as Role, password: '' };
  const [form, setForm] = useState(empty);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof empty) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  return (
    <form
      className="agent-form"
      data-testid="user-form"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError('');
        try {
          onCreated(await api.createUser(form));
          setForm(empty);
        } catch (err) {
          setError(err instanceof ApiError ? err.message : (err as Error).message);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h3>Add a user</h3>
      <label>
        Name
        <input data-testid="user-name" value={form.name} onChange={set('name')} required />
      </label>
      <label>
        Email
        <input data-testid="user-email" type="email" value={form.email} onChange={set('email')} required />
      </label>
      <label>
        Role
        <select data-testid="user-role" value={form.role} onChange={set('role')}>
          {roles.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </label>
      <label>
        Password (they sign in with it; at least 12 characters)
        <input data-testid="user-password" type="password" autoComplete="new-password" value={form.password} onChange={set('password')} required />
      </label>
      <button data-testid="user-create" type="submit" disabled={busy}>
        Add user
      </button>
      {error && (
        <p className="error" role="alert" data-testid="user-error">
          {error}
        </p>
      )}
    </form>
  );
}
