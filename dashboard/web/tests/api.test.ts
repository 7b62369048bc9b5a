import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api, ApiError } from '../src/api';

// pages answers GETs from a list of JSON pages, in order, and records the URLs asked for.
function pages(...bodies: object[]) {
  const urls: string[] = [];
  const headers: Record<string, string>[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: { headers: Record<string, string> }) => {
      urls.push(url);
      headers.push(init.headers);
      const body = bodies[Math.min(urls.length - 1, bodies.length - 1)];
      return new Response(JSON.stringify(body), { status: 200 });
    }),
  );
  return { urls, headers };
}

afterEach(() => vi.unstubAllGlobals());

describe('Api cursor pagination', () => {
  it('follows next_cursor and joins the pages in order', async () => {
    const { urls, headers } = pages(
      { messages: [{ id: 'm1' }, { id: 'm2' }], next_cursor: 'c1' },
      { messages: [{ id: 'm3' }], next_cursor: 'c/2' },
      { messages: [{ id: 'm4' }] },
    );
    const got = await new Api('tok').messages('conv 1');
    expect(got.map((m) => m.id)).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(urls).toEqual([
      '/api/v1/conversations/conv%201/messages?limit=500',
      '/api/v1/conversations/conv%201/messages?limit=500&cursor=c1',
      '/api/v1/conversations/conv%201/messages?limit=500&cursor=c%2F2',
    ]);
    expect(headers[0].Authorization).toBe('Bearer tok');
  });

  it('reads the list under its own key: conversations and notes', async () => {
    let { urls } = pages({ conversations: [{ id: 'c1' }], next_cursor: '' });
    expect((await new Api('t').conversations()).map((c) => c.id)).toEqual(['c1']);
    expect(urls).toEqual(['/api/v1/conversations?limit=500']);
    ({ urls } = pages({ notes: [{ id: 'n1' }, { id: 'n2' }] }));
    expect((await new Api('t').notes('c1')).map((n) => n.id)).toEqual(['n1', 'n2']);
    expect(urls).toEqual(['/api/v1/conversations/c1/notes?limit=500']);
  });

  it('stops after its page limit: 10 for conversations, 20 for messages and notes', async () => {
    let { urls } = pages({ conversations: [{ id: 'c' }], next_cursor: 'more' });
    expect(await new Api('t').conversations()).toHaveLength(10);
    expect(urls).toHaveLength(10);
    ({ urls } = pages({ messages: [{ id: 'm' }], next_cursor: 'more' }));
    expect(await new Api('t').messages('c1')).toHaveLength(20);
    expect(urls).toHaveLength(20);
    ({ urls } = pages({ notes: [{ id: 'n' }], next_cursor: 'more' }));
    expect(await new Api('t').notes('c1')).toHaveLength(20);
    expect(urls).toHaveLength(20);
  });
});

describe('Api commerce', () => {
  it('asks for a page of a customer\'s orders, with the cursor of the next', async () => {
    const { urls } = pages({ orders: [{ id: 'o1' }], next_cursor: 'c/2' });
    const api = new Api('t');
    const page = await api.customerOrders('cus 1');
    expect(page.orders.map((o) => o.id)).toEqual(['o1']);
    expect(page.next_cursor).toBe('c/2');
    await api.customerOrders('cus 1', 20, 'c/2');
    expect(urls).toEqual(['/api/v1/customers/cus%201/orders?limit=20', '/api/v1/customers/cus%201/orders?limit=20&cursor=c%2F2']);
  });

  it('reads one order and the shops', async () => {
    let { urls } = pages({ id: 'o/1', number: '1001' });
    expect((await new Api('t').order('o/1')).number).toBe('1001');
    expect(urls).toEqual(['/api/v1/orders/o%2F1']);
    ({ urls } = pages({ shops: [{ id: 's1', domain: 'acme.myshopify.com' }] }));
    expect((await new Api('t').shops()).map((s) => s.domain)).toEqual(['acme.myshopify.com']);
    expect(urls).toEqual(['/api/v1/commerce/shops']);
    pages({ shops: null });
    expect(await new Api('t').shops()).toEqual([]);
  });

  it('turns a 403 into an ApiError with the code and message of the body', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify({ error: { code: 'forbidden', message: 'admins and supervisors only' } }), { status: 403 })),
    );
    const err = await new Api('t').shops().catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(403);
    expect(err.code).toBe('forbidden');
    expect(err.message).toBe('admins and supervisors only');
  });
});

describe('Api confirmations and approvals', () => {
  it('reads a conversation’s and a customer’s confirmations, and the queue', async () => {
    let { urls } = pages({ confirmations: [{ id: 'cf_1' }] });
    expect((await new Api('t').conversationConfirmations('conv/1')).map((c) => c.id)).toEqual(['cf_1']);
    expect((await new Api('t').customerConfirmations('cus 1')).map((c) => c.id)).toEqual(['cf_1']);
    expect(urls).toEqual(['/api/v1/conversations/conv%2F1/confirmations', '/api/v1/customers/cus%201/confirmations']);
    ({ urls } = pages({ approvals: [{ id: 'cf_2', customer_name: 'Grace' }] }));
    expect((await new Api('t').approvals()).map((a) => a.customer_name)).toEqual(['Grace']);
    expect(urls).toEqual(['/api/v1/approvals?limit=500']);
    pages({ confirmations: null, approvals: null });
    expect(await new Api('t').conversationConfirmations('c')).toEqual([]);
    expect(await new Api('t').approvals()).toEqual([]);
  });

  it('posts a decision with its note, and turns 409 into an ApiError', async () => {
    const sent: { url: string; method: string; body: string }[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init: { method: string; body: string }) => {
        sent.push({ url, method: init.method, body: init.body });
        if (sent.length === 3) return new Response(JSON.stringify({ error: { code: 'invalid', message: 'not awaiting approval' } }), { status: 409 });
        return new Response(JSON.stringify({ id: 'cf 1', state: sent.length === 1 ? 'executed' : 'declined' }), { status: 200 });
      }),
    );
    const api = new Api('t');
    expect((await api.decide('cf 1', 'approve', 'within policy')).state).toBe('executed');
    expect((await api.decide('cf 1', 'reject')).state).toBe('declined');
    const err = await api.decide('cf 1', 'approve').catch((e) => e);
    expect(sent.map((s) => `${s.method} ${s.url} ${s.body}`)).toEqual([
      'POST /api/v1/approvals/cf%201/approve {"note":"within policy"}',
      'POST /api/v1/approvals/cf%201/reject {"note":""}',
      'POST /api/v1/approvals/cf%201/approve {"note":""}',
    ]);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(409);
    expect(err.code).toBe('invalid');
  });
});
