// REST client for /api/v1 (gateway/openapi.json). The bearer token lives in
// sessionStorage so a reload keeps the session but a new tab signs in again.

import type {
  Agent,
  Approval,
  Confirmation,
  Conversation,
  Coverage,
  CustomersPage,
  CustomerTimeline,
  KnowledgeAccepted,
  KnowledgeChunk,
  KnowledgeDocument,
  KnowledgeDocumentsPage,
  KnowledgeFields,
  KnowledgeSearchRequest,
  KnowledgeSearchResponse,
  Message,
  NewTicket,
  Note,
  Order,
  OrdersPage,
  PromptDiff,
  PromptList,
  PromptVersion,
  Shop,
  Ticket,
  ToolCall,
  User,
} from './types';

const TOKEN_KEY = 'frontdesk.token';
const USER_KEY = 'frontdesk.user';

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) {
    super(message);
  }
}

export interface Session {
  token: string;
  user: User;
}

export function loadSession(): Session | null {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const user = sessionStorage.getItem(USER_KEY);
  if (!token || !user) return null;
  try {
    return { token, user: JSON.parse(user) as User };
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  if (!s) {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, s.token);
  sessionStorage.setItem(USER_KEY, JSON.stringify(s.user));
}

async function call<T>(method: string, path: string, token: string | null, body?: unknown, extra?: Record<string, string>): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...extra };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const json = text ? JSON.parse(text) : {};
  if (!res.ok) {
    throw new ApiError(res.status, json?.error?.code ?? String(res.status), json?.error?.message ?? res.statusText);
  }
  return json as T;
}

/**
 * errorOf turns a failed answer's body into an ApiError: the API's
 * {"error":{"code","message"}}, else the status (a proxy's HTML page, say).
 */
export function errorOf(status: number, statusText: string, body: string): ApiError {
  let json: any = null;
  try {
    json = body ? JSON.parse(body) : null;
  } catch {
    // not the API's JSON
  }
  const text = statusText || (status === 413 ? 'the file is too large' : `HTTP ${status}`);
  return new ApiError(status, json?.error?.code ?? String(status), json?.error?.message ?? text);
}

/** Upload is a request in flight whose body's progress is reported; abort cancels it (the promise then rejects). */
export interface Upload<T> {
  promise: Promise<T>;
  abort: () => void;
}

/**
 * xhrUpload sends body (multipart form data) with XMLHttpRequest, which
 * reports the upload's progress (fetch does not): onProgress(loaded, total)
 * as the body goes out, total 0 when unknown. It answers the JSON of a 2xx
 * answer, else rejects with an ApiError (status 0 for a network failure or
 * an abort).
 */
export function xhrUpload<T>(method: 'POST' | 'PUT', path: string, token: string, body: FormData, onProgress?: (loaded: number, total: number) => void): Upload<T> {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<T>((resolve, reject) => {
    xhr.open(method, path);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve((xhr.responseText ? JSON.parse(xhr.responseText) : {}) as T);
        } catch {
          reject(new ApiError(xhr.status, 'invalid_response', 'the server’s answer was not JSON'));
        }
        return;
      }
      reject(errorOf(xhr.status, xhr.statusText, xhr.responseText));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload failed: no answer from the server'));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'the upload was cancelled'));
    xhr.send(body);
  });
  return { promise, abort: () => xhr.abort() };
}

export function login(email: string, password: string): Promise<{ token: string; user: User }> {
  return call('POST', '/api/v1/auth/login', null, { email, password });
}

export class Api {
  constructor(private token: string) {}
  /**
   * all GETs path page by page (500 a page, following next_cursor, at most
   * maxPages pages) and answers the items under key of every page, in order.
   */
  private async all<K extends string, T>(path: string, key: K, maxPages: number): Promise<T[]> {
    const out: T[] = [];
    let cursor = '';
    for (let i = 0; i < maxPages; i++) {
      const q = new URLSearchParams({ limit: '500' });
      if (cursor) q.set('cursor', cursor);
      const page = await call<{ [k in K]: T[] } & { next_cursor?: string }>('GET', `${path}?${q}`, this.token);
      out.push(...(page[key] ?? []));
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    return out;
  }
  logout() {
    return call('POST', '/api/v1/auth/logout', this.token);
  }
  conversations(): Promise<Conversation[]> {
    return this.all('/api/v1/conversations', 'conversations', 10);
  }
  conversation(id: string): Promise<Conversation> {
    return call('GET', `/api/v1/conversations/${encodeURIComponent(id)}`, this.token);
  }
  messages(id: string): Promise<Message[]> {
    return this.all(`/api/v1/conversations/${encodeURIComponent(id)}/messages`, 'messages', 20);
  }
  takeover(id: string, steal = false): Promise<Conversation> {
    return call('POST', `/api/v1/conversations/${encodeURIComponent(id)}/takeover`, this.token, steal ? { steal: true } : {});
  }
  handback(id: string, note: string): Promise<Conversation> {
    return call('POST', `/api/v1/conversations/${encodeURIComponent(id)}/handback`, this.token, note ? { note } : {});
  }
  reply(id: string, text: string): Promise<Message> {
    return call('POST', `/api/v1/conversations/${encodeURIComponent(id)}/replies`, this.token, { text });
  }
  notes(id: string): Promise<Note[]> {
    return this.all(`/api/v1/conversations/${encodeURIComponent(id)}/notes`, 'notes', 20);
  }
  /** A private note: never sent to the customer, never shown to the AI. */
  createNote(id: string, text: string): Promise<Note> {
    return call('POST', `/api/v1/conversations/${encodeURIComponent(id)}/notes`, this.token, { text });
  }
  async toolCalls(id: string): Promise<ToolCall[]> {
    const out: ToolCall[] = [];
    let after = 0;
    for (let i = 0; i < 20; i++) {
      const page = await call<{ tool_calls: ToolCall[]; next_after?: number }>(
        'GET',
        `/api/v1/conversations/${encodeURIComponent(id)}/tool-calls${after ? `?after=${after}` : ''}`,
        this.token,
      );
      out.push(...page.tool_calls);
      if (!page.next_after) break;
      after = page.next_after;
    }
    return out;
  }
  /** The tenant's users with emails (supervisors and admins). */
  async users(): Promise<User[]> {
    return (await call<{ users: User[] }>('GET', '/api/v1/users?limit=500', this.token)).users;
  }
  /** Adds a user (admins). */
  createUser(u: { email: string; name: string; role: string; password: string }): Promise<User> {
    return call('POST', '/api/v1/users', this.token, u);
  }
  /** Every user of the tenant (id, name, role), for any role. */
  team(): Promise<{ team: Pick<User, 'id' | 'name' | 'role'>[] }> {
    return call('GET', '/api/v1/team', this.token);
  }
  customer(id: string): Promise<any> {
    return call('GET', `/api/v1/customers/${encodeURIComponent(id)}`, this.token);
  }
  /** Search customers by name, phone, email or channel id; an empty query lists them. */
  customers(query: string, limit = 50, cursor = ''): Promise<CustomersPage> {
    const q = new URLSearchParams({ query, limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    return call('GET', `/api/v1/customers?${q}`, this.token);
  }
  /** The customer and their conversations, orders, tickets and payments, newest first. */
  customerTimeline(id: string): Promise<CustomerTimeline> {
    return call('GET', `/api/v1/customers/${encodeURIComponent(id)}/timeline`, this.token);
  }
  /** Open a ticket; the same idempotencyKey sent twice creates one ticket. */
  createTicket(customerId: string, ticket: NewTicket, idempotencyKey?: string): Promise<Ticket> {
    return call('POST', `/api/v1/customers/${encodeURIComponent(customerId)}/tickets`, this.token, ticket, idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : undefined);
  }
  /** The customer's open conversation, or a new one assigned to the caller (409 no_channel when they never wrote). */
  openCustomerConversation(customerId: string, channel?: string): Promise<Conversation> {
    return call('POST', `/api/v1/customers/${encodeURIComponent(customerId)}/conversations`, this.token, channel ? { channel } : {});
  }
  /** One page of the customer's shop orders, newest first; next_cursor is "" on the last page. */
  customerOrders(customerId: string, limit = 20, cursor = ''): Promise<OrdersPage> {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    return call('GET', `/api/v1/customers/${encodeURIComponent(customerId)}/orders?${q}`, this.token);
  }
  /** One order (404 when there is none). */
  order(id: string): Promise<Order> {
    return call('GET', `/api/v1/orders/${encodeURIComponent(id)}`, this.token);
  }
  /** The connected shops and their webhook health (admins and supervisors; 403 for others). */
  async shops(): Promise<Shop[]> {
    return (await call<{ shops: Shop[] | null }>('GET', '/api/v1/commerce/shops', this.token)).shops ?? [];
  }
  /** The conversation's money confirmations with their timelines, newest first (every role). */
  async conversationConfirmations(id: string): Promise<Confirmation[]> {
    return (await call<{ confirmations: Confirmation[] | null }>('GET', `/api/v1/conversations/${encodeURIComponent(id)}/confirmations`, this.token)).confirmations ?? [];
  }
  /** The customer's money confirmations (refunds) with their timelines, newest first (every role). */
  async customerConfirmations(id: string): Promise<Confirmation[]> {
    return (await call<{ confirmations: Confirmation[] | null }>('GET', `/api/v1/customers/${encodeURIComponent(id)}/confirmations`, this.token)).confirmations ?? [];
  }
  /** The confirmations awaiting a supervisor's approval, oldest first (admins and supervisors; 403 for others). */
  approvals(): Promise<Approval[]> {
    return this.all('/api/v1/approvals', 'approvals', 10);
  }
  /**
   * decide approves or rejects a confirmation awaiting approval, with an
   * optional note (audited; the customer is told). Answers the confirmation
   * as it is now; 409 "invalid" when it no longer awaits approval.
   */
  decide(id: string, decision: 'approve' | 'reject', note = ''): Promise<Confirmation> {
    return call('POST', `/api/v1/approvals/${encodeURIComponent(id)}/${decision}`, this.token, { note });
  }
  /** The tool names an agent may be allowed (the registry's). */
  tools(): Promise<{ tools: string[] }> {
    return call('GET', '/api/v1/tools', this.token);
  }
  agents(): Promise<{ agents: Agent[] }> {
    return call('GET', '/api/v1/agents?limit=500', this.token);
  }
  agent(id: string): Promise<Agent> {
    return call('GET', `/api/v1/agents/${encodeURIComponent(id)}`, this.token);
  }
  /** POST a new agent (201); it has no live prompt until one is created and made live. 400 for an unknown tool. */
  createAgent(agent: { name: string; description?: string; tools?: string[]; routing?: Record<string, unknown> }): Promise<Agent> {
    return call('POST', '/api/v1/agents', this.token, agent);
  }
  /** PATCH an agent; version is the record version the change was made on (409 when stale). */
  updateAgent(
    id: string,
    change: { version: number; name?: string; description?: string; tools?: string[]; routing?: Record<string, unknown> | null },
  ): Promise<Agent> {
    return call('PATCH', `/api/v1/agents/${encodeURIComponent(id)}`, this.token, change);
  }
  prompts(id: string): Promise<PromptList> {
    return call('GET', `/api/v1/agents/${encodeURIComponent(id)}/prompts`, this.token);
  }
  /** Create version N+1; with baseVersion, a newer latest version answers 409. */
  createPrompt(id: string, prompt: string, baseVersion?: number): Promise<PromptVersion> {
    const body: { prompt: string; base_version?: number } = { prompt };
    if (baseVersion) body.base_version = baseVersion;
    return call('POST', `/api/v1/agents/${encodeURIComponent(id)}/prompts`, this.token, body);
  }
  promptDiff(id: string, from: number, to: number): Promise<PromptDiff> {
    const q = new URLSearchParams({ from: String(from), to: String(to) });
    return call('GET', `/api/v1/agents/${encodeURIComponent(id)}/prompts/diff?${q}`, this.token);
  }
  setLive(id: string, version: number): Promise<Agent> {
    return call('POST', `/api/v1/agents/${encodeURIComponent(id)}/live`, this.token, { version });
  }
  /** One page of the tenant's knowledge documents, newest first; next_cursor is "" on the last page (every role). */
  knowledgeDocuments(opts: { limit?: number; cursor?: string; status?: string; kind?: string } = {}): Promise<KnowledgeDocumentsPage> {
    const q = new URLSearchParams({ limit: String(opts.limit ?? 50) });
    if (opts.cursor) q.set('cursor', opts.cursor);
    if (opts.status) q.set('status', opts.status);
    if (opts.kind) q.set('kind', opts.kind);
    return call('GET', `/api/v1/knowledge/documents?${q}`, this.token);
  }
  /** One knowledge document (404 when there is none, or it is another tenant's). */
  knowledgeDocument(id: string): Promise<KnowledgeDocument> {
    return call('GET', `/api/v1/knowledge/documents/${encodeURIComponent(id)}`, this.token);
  }
  /** A document's passages in order. */
  async knowledgeChunks(id: string): Promise<KnowledgeChunk[]> {
    return (await call<{ chunks: KnowledgeChunk[] | null }>('GET', `/api/v1/knowledge/documents/${encodeURIComponent(id)}/chunks`, this.token)).chunks ?? [];
  }
  /** Adds a document from pasted text (admins and supervisors): 201 with status "processing". */
  createKnowledgeText(doc: KnowledgeFields & { content: string; format?: string }): Promise<KnowledgeAccepted> {
    return call('POST', '/api/v1/knowledge/documents', this.token, doc);
  }
  /**
   * uploadKnowledge sends a multipart form (knowledgeForm) with upload
   * progress: a new document (POST), or a new version of document id (PUT).
   */
  uploadKnowledge(form: FormData, onProgress?: (loaded: number, total: number) => void, id?: string): Upload<KnowledgeAccepted> {
    return id
      ? xhrUpload('PUT', `/api/v1/knowledge/documents/${encodeURIComponent(id)}`, this.token, form, onProgress)
      : xhrUpload('POST', '/api/v1/knowledge/documents', this.token, form, onProgress);
  }
  /** Deletes a document and its passages (admins and supervisors): 204. */
  async deleteKnowledgeDocument(id: string): Promise<void> {
    await call('DELETE', `/api/v1/knowledge/documents/${encodeURIComponent(id)}`, this.token);
  }
  /** The passages that best answer a query, as the AI's retrieval finds them. */
  searchKnowledge(req: KnowledgeSearchRequest): Promise<KnowledgeSearchResponse> {
    return call('POST', '/api/v1/knowledge/search', this.token, req);
  }
  /** The knowledge coverage of customers' questions from from to to (RFC 3339; the last 7 days when both are ""). */
  coverage(from: string, to: string): Promise<Coverage> {
    const q = new URLSearchParams();
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    const qs = q.toString();
    return call('GET', `/api/v1/knowledge/coverage${qs ? `?${qs}` : ''}`, this.token);
  }
  /** The questions of the coverage range as CSV (asked_at, conversation_id, question, best_relevance, answered_with_sources, topic). */
  async coverageCSV(from: string, to: string): Promise<Blob> {
    const q = new URLSearchParams({ format: 'csv' });
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    const res = await fetch(`/api/v1/knowledge/coverage?${q}`, { headers: { Accept: 'text/csv', Authorization: `Bearer ${this.token}` } });
    if (!res.ok) throw errorOf(res.status, res.statusText, await res.text());
    return res.blob();
  }
}
