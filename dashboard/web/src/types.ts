// Wire types of the REST API (gateway/openapi.json) and the /ws frames.

export type Role = 'admin' | 'supervisor' | 'agent' | 'analyst';

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  tenant_id: string;
}

export interface CustomerRef {
  id: string;
  name: string;
  phone: string;
  email: string;
}

export type ConversationStatus = 'open' | 'waiting_human' | 'closed';

export interface Conversation {
  id: string;
  status: ConversationStatus;
  channel: string;
  channel_account?: string;
  customer?: CustomerRef;
  customer_id?: string;
  assigned_user_id: string;
  /** "ai" or "user:<id>". */
  writer: string;
  /** The AI agent profile the routing rules chose; "" before one is chosen. */
  agent_profile_id?: string;
  last_message_at: string | null;
  created_at?: string;
  updated_at?: string;
}

export type DeliveryStatus = 'received' | 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

export interface Message {
  id: string;
  conversation_id?: string;
  direction: 'inbound' | 'outbound';
  text: string;
  kind: string;
  status: DeliveryStatus;
  sender: string;
  channel_message_id?: string;
  media_ref?: string;
  error?: string;
  created_at: string;
  /** The knowledge passages an AI reply cites, numbered as the model cited them (absent when none). */
  citations?: Citation[] | null;
}

/** One source an AI reply cites: a passage (chunk) of a knowledge document. */
export interface Citation {
  /** the number the model cited it with ([1] is 1); the markers are removed from the text sent */
  n: number;
  document_id: string;
  chunk_id: string;
  title: string;
  heading: string;
  snippet: string;
  source_url: string;
}

export interface ToolCall {
  call_id: string;
  tool: string;
  arguments: unknown;
  result?: unknown;
  error?: string;
  executed?: boolean;
  duration_ms?: number;
  /** When the call started (RFC 3339). */
  at?: string;
  /** The live event's time. */
  time?: string;
  /** The live event's id (the frame id, or event_id from REST). */
  event_id?: number;
}

/** A private note on a conversation (never sent, never shown to the AI). */
export interface Note {
  id: string;
  conversation_id: string;
  author_id: string;
  text: string;
  created_at: string;
}

/** One /ws frame (dashboard/ws.go Frame). */
export interface Frame {
  id: number;
  type: 'message.created' | 'message.status' | 'tool.called' | 'conversation.updated' | 'confirmation.updated' | string;
  conversation_id: string;
  data: any;
  time: string;
}

export interface Agent {
  id: string;
  name: string;
  description: string;
  /** allow-list of tool names, sorted */
  tools: string[];
  routing: Record<string, unknown> | null;
  /** live prompt version number; 0 when none */
  live_version: number;
  /** record version for optimistic concurrency on PATCH */
  version: number;
  created_at: string;
  updated_at: string;
}

export interface PromptVersion {
  id: string;
  number: number;
  prompt: string;
  author_id: string;
  live: boolean;
  created_at: string;
}

export interface PromptList {
  live_version: number;
  prompts: PromptVersion[];
}

export interface PromptDiff {
  from: number;
  to: number;
  added: number;
  removed: number;
  diff: string;
}

// Customer 360 (gateway/customers.go).

export interface CustomerIdentity {
  id: string;
  /** e.g. "whatsapp" */
  channel: string;
  /** the channel's id of the customer, e.g. the WhatsApp wa id */
  external_id: string;
  display_name: string;
  created_at: string;
}

export interface Customer {
  id: string;
  name: string;
  email: string;
  phone: string;
  language: string;
  last_seen_at: string | null;
  created_at: string;
  updated_at: string;
  identities: CustomerIdentity[];
}

export interface CustomersPage {
  customers: Customer[];
  next_cursor?: string;
}

export type TimelineKind = 'conversation' | 'order' | 'ticket' | 'payment';

interface TimelineBase {
  id: string;
  /** RFC 3339 time the item happened (newest first in a timeline). */
  at: string;
  title: string;
  status: string;
}

export interface TimelineConversation extends TimelineBase {
  kind: 'conversation';
  channel: string;
  /** "ai" or "user:<id>" */
  writer: string;
  conversation_id: string;
}

export interface TimelineOrder extends TimelineBase {
  kind: 'order';
  source: string;
  external_id: string;
  total_cents: number;
  currency: string;
}

export type TicketPriority = 'low' | 'normal' | 'high' | 'urgent';

export interface TimelineTicket extends TimelineBase {
  kind: 'ticket';
  priority: TicketPriority | string;
  description: string;
  conversation_id?: string;
}

export interface TimelinePayment extends TimelineBase {
  kind: 'payment';
  amount_cents: number;
  currency: string;
  provider: string;
  order_id?: string;
  conversation_id?: string;
}

export type TimelineItem = TimelineConversation | TimelineOrder | TimelineTicket | TimelinePayment;

export interface CustomerTimeline {
  customer: Customer;
  items: TimelineItem[];
}

export interface Ticket {
  id: string;
  customer_id: string;
  conversation_id: string;
  subject: string;
  description: string;
  priority: TicketPriority;
  status: string;
  created_at: string;
}

export interface NewTicket {
  subject: string;
  description: string;
  priority?: TicketPriority;
  conversation_id?: string;
}

// Commerce (gateway: /customers/{id}/orders, /orders/{id}, /commerce/shops).

export type OrderSource = 'shopify' | 'magento';

export interface OrderLineItem {
  external_id?: string;
  title: string;
  sku?: string;
  quantity: number;
  /** unit price in minor units of the order's currency */
  price_minor: number;
}

export interface OrderTracking {
  company?: string;
  number?: string;
  url?: string;
  status?: string;
}

/** A shop's order (Shopify or Magento); money in minor units of currency. */
export interface Order {
  id: string;
  customer_id: string;
  source: OrderSource | string;
  /** the shop's domain, e.g. "acme.myshopify.com" */
  shop: string;
  external_id: string;
  /** what the customer sees, without "#": "1001" */
  number: string;
  /** "open" or "cancelled" */
  status: string;
  /** paid, pending, authorized, partially_paid, partially_refunded, refunded, voided, … */
  financial_status: string;
  /** unfulfilled, partial, fulfilled, … ("" or null when nothing shipped) */
  fulfillment_status: string | null;
  total_minor: number;
  refunded_minor: number;
  /** ISO 4217 code */
  currency: string;
  line_items: OrderLineItem[] | null;
  tracking: OrderTracking[] | null;
  /** the order's page in the shop's admin ("" when unknown) */
  admin_url?: string;
  created_at: string;
  updated_at: string;
  cancelled_at: string | null;
}

export interface OrdersPage {
  orders: Order[];
  next_cursor?: string;
}

/** A connected shop and the health of its webhooks. */
export interface Shop {
  id: string;
  source: OrderSource | string;
  domain: string;
  status: 'connected' | 'uninstalled' | string;
  /** where the shop must send its webhooks */
  webhook_url: string;
  last_event_at: string | null;
  last_event_topic: string;
  events_total: number;
  failures_total: number;
  /** the last refused delivery's reason ("" when none) */
  last_failure: string;
  last_failure_at: string | null;
}

// Money with the customer's yes (gateway: /conversations/{id}/confirmations,
// /customers/{id}/confirmations, /approvals; the /ws frame "confirmation.updated").

/** Where a confirmation stands: asked, waiting for a supervisor, confirmed, declined, expired or executed. */
export type ConfirmationState = 'pending' | 'awaiting_approval' | 'confirmed' | 'declined' | 'expired' | 'executed';

/** Who took a step: the AI, the customer, the runtime itself, or a user (a supervisor's decision). */
export type ActorKind = 'ai' | 'customer' | 'system' | 'user';

/** One step of a confirmation's life, oldest first. */
export interface ConfirmationStep {
  /** confirmation.proposed, .confirmed, .declined, .cancelled, .expired, .executed, .execution_failed, .awaiting_approval, .approved, .rejected */
  action: string;
  at: string;
  actor_kind: ActorKind | string;
  actor_id: string;
  /** the step's details: reason, error (a provider's), note (a supervisor's) among them */
  data?: Record<string, unknown> | null;
}

/** What the provider answered once the refund was made. */
export interface RefundResult {
  refund_id: string;
  amount_minor: number;
  currency: string;
  /** the provider already had this refund (a retry found it): nothing was refunded twice */
  replayed: boolean;
}

/** A money action the agent proposed and the customer must say Yes to. Money in minor units of currency. */
export interface Confirmation {
  id: string;
  customer_id: string;
  conversation_id: string;
  /** "refund_order" */
  action: string;
  /** what it is about, as the customer knows it: "#1001" */
  subject: string;
  amount_minor: number;
  currency: string;
  state: ConfirmationState | string;
  expires_at: string;
  created_at: string;
  resolved_at: string | null;
  /** why it needs a supervisor ("above the 50.00 USD limit"); "" when it does not */
  approval_reason: string;
  result: RefundResult | null;
  /** the provider's reason of the last failed execution ("" when none) */
  last_error: string;
  failed_executions: number;
  /** absent from live frames */
  timeline?: ConfirmationStep[] | null;
}

/** A confirmation in the approval queue (GET /api/v1/approvals). */
export interface Approval extends Confirmation {
  customer_name: string;
}

// Knowledge (gateway: /knowledge/documents, /knowledge/search, /knowledge/coverage).

export type KnowledgeKind = 'faq' | 'policy' | 'product' | 'article';
export type KnowledgeStatus = 'processing' | 'ready' | 'failed';

/** A knowledge document the AI answers from; its text is split into chunks (passages). */
export interface KnowledgeDocument {
  id: string;
  title: string;
  kind: KnowledgeKind | string;
  tags: string[] | null;
  language: string;
  source_url: string;
  valid_from: string | null;
  valid_until: string | null;
  /** markdown, html, text, csv or pdf */
  format: string;
  /** "upload" or "shopify" */
  source: string;
  size_bytes: number;
  status: KnowledgeStatus | string;
  /** why processing failed ("" unless failed) */
  error: string;
  version: number;
  chunk_count: number;
  created_at: string;
  updated_at: string;
}

export interface KnowledgeDocumentsPage {
  documents: KnowledgeDocument[] | null;
  next_cursor?: string;
}

/** What POST and PUT /knowledge/documents answer: the document is processed in the background. */
export interface KnowledgeAccepted {
  id: string;
  status: KnowledgeStatus | string;
  version: number;
}

/** One passage of a document: a section under a heading, or one question and its answer. */
export interface KnowledgeChunk {
  id: string;
  ordinal: number;
  heading: string;
  question: string;
  text: string;
}

/** The metadata fields of an upload (JSON body or multipart form fields). */
export interface KnowledgeFields {
  title?: string;
  kind?: string;
  tags?: string[];
  language?: string;
  source_url?: string;
  valid_from?: string;
  valid_until?: string;
}

export interface KnowledgeSearchRequest {
  query: string;
  k: number;
  filters?: { kind?: string[]; tags?: string[]; language?: string; at?: string };
}

export interface KnowledgeSearchResult {
  document_id: string;
  chunk_id: string;
  title: string;
  heading: string;
  /** the fused rank score, for ordering only */
  score: number;
  /** 0..1, comparable across queries */
  relevance: number;
  lexical: number;
  cosine: number;
  snippet: string;
  text: string;
  source_url: string;
  kind: string;
  /** the FAQ question the passage answers ("" or absent for other passages) */
  question?: string;
}

export interface KnowledgeSearchResponse {
  results: KnowledgeSearchResult[] | null;
  /** whether the best relevance reaches threshold */
  relevant: boolean;
  threshold: number;
  /** the best relevance of the results (absent from older servers: computed from the results) */
  best?: number;
  /** "lexical" (keywords only) or "hybrid" (keywords and vectors) */
  mode?: string;
}

export interface CoverageTopic {
  label: string;
  count: number;
  unanswered: number;
  /** 0..1 */
  coverage: number;
  examples: string[] | null;
  conversation_ids: string[] | null;
}

/** How well the knowledge answered customers' questions over a time range. */
export interface Coverage {
  from: string;
  to: string;
  threshold: number;
  questions: number;
  answered_with_sources: number;
  /** 0..1 */
  share_answered: number;
  no_relevant_docs: number;
  /** ranked by unanswered volume */
  topics: CoverageTopic[] | null;
  /** the range held more questions than one report reads (the oldest were left out) */
  truncated?: boolean;
}
