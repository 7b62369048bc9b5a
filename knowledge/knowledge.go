// Package knowledge owns the brand's knowledge base at run time: documents
// uploaded or generated from the shop's catalogue, their processing off the
// knowledge topic (parse, chunk, embed, store: retried and surviving
// restarts), each member's per-tenant search index kept in step with the
// store, retrieval (BM25 and vectors fused, filtered, with an absolute
// relevance), and the coverage report of what customers ask that the
// knowledge base does not answer. Parsing and chunking are
// knowledge/extract's; the index is knowledge/index's.
package knowledge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/consume"
	"github.com/frontdesk-ai/frontdesk/knowledge/extract"
	"github.com/frontdesk-ai/frontdesk/knowledge/index"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Tx is what the knowledge base writes in one transaction.
type Tx interface {
	CreateKnowledgeDocument(ctx context.Context, m *persistence.KnowledgeDocument) error
	GetKnowledgeDocument(ctx context.Context, tenantID, id string) (persistence.KnowledgeDocument, error)
	GetKnowledgeDocumentByExternalKey(ctx context.Context, tenantID, key string) (persistence.KnowledgeDocument, error)
	UpdateKnowledgeDocument(ctx context.Context, m *persistence.KnowledgeDocument) error
	DeleteKnowledgeDocument(ctx context.Context, tenantID, id string) error
	PutKnowledgeSource(ctx context.Context, tenantID, documentID string, revision int, fileName string, data []byte) error
	GetKnowledgeSource(ctx context.Context, tenantID, documentID string, revision int) (string, []byte, error)
	DeleteKnowledgeSourcesBefore(ctx context.Context, tenantID, documentID string, revision int) error
	ReplaceKnowledgeChunks(ctx context.Context, tenantID, documentID string, chunks []persistence.KnowledgeChunk) error
	CreateAuditEvent(ctx context.Context, m *persistence.AuditEvent) error
	AppendLog(ctx context.Context, recs ...persistence.Record) ([]persistence.Record, error)
}

// Store is the knowledge base's store: transactions, and the reads done
// outside them.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
	GetKnowledgeDocument(ctx context.Context, tenantID, id string) (persistence.KnowledgeDocument, error)
	GetKnowledgeSource(ctx context.Context, tenantID, documentID string, revision int) (string, []byte, error)
	ListKnowledgeChunks(ctx context.Context, tenantID, documentID string) ([]persistence.KnowledgeChunk, error)
	ScanKnowledgeChunks(ctx context.Context, tenantID, afterID string, limit int) ([]persistence.KnowledgeChunk, error)
	KnowledgeTenants(ctx context.Context) ([]string, error)
	ListKnowledgeDocumentsByStatus(ctx context.Context, tenantID string, status persistence.KnowledgeStatus) ([]persistence.KnowledgeDocument, error)
	ListKnowledgeQuestions(ctx context.Context, tenantID string, from, to time.Time, limit int) ([]persistence.KnowledgeQuestion, error)
}

// Log is what the knowledge base needs from the event log: its consumer
// groups on the knowledge topic and appends to the dead-letter topic.
type Log interface {
	consume.Subscriber
	persistence.Appender
}

// Embedder turns texts into vectors (the LLM router's embeddings route).
type Embedder interface {
	Embed(ctx context.Context, model string, inputs []string) ([][]float32, error)
}

// Config tunes the knowledge base.
type Config struct {
	// Dir holds this member's search indexes, one per tenant.
	Dir string
	// Member names this member: each member keeps its own indexes in step
	// with the store through its own consumer group.
	Member string
	// MaxUploadBytes bounds one document's file (default 10 MiB).
	MaxUploadBytes int64
	// Threshold is the relevance (0..1) from which a passage counts as
	// answering a question (default DefaultThreshold).
	Threshold float64
	// Passages is how many passages a turn puts before the model (default 4).
	Passages int
	// Chunk sizes the passages.
	Chunk extract.ChunkOptions
	// Embedder, when set, adds vectors to chunks and queries; nil: BM25
	// alone. EmbedModel is the model asked for (empty: the route's).
	Embedder   Embedder
	EmbedModel string
	// EmbedTimeout bounds the embedding of one query (default 2 s): past
	// it the search is lexical only.
	EmbedTimeout time.Duration
	// Index tunes the search indexes.
	Index index.Options
}

// DefaultThreshold is the default relevance a passage needs to count as an
// answer. On the FAQ test set (knowledge/index/testdata/faq: 75 answerable
// and 12 unanswerable questions) 0.32 separates them best (93 % right);
// answerable questions' best relevance has p10 0.44, unanswerable ones' a
// median of 0.31.
const DefaultThreshold = 0.35

// DefaultMaxUploadBytes bounds an uploaded file by default.
const DefaultMaxUploadBytes = 10 << 20

// Validate refuses values that cannot work.
func (c Config) Validate() error {
	switch {
	case c.MaxUploadBytes < 0:
		return errors.New("knowledge: the upload limit must not be negative")
	case c.Threshold < 0 || c.Threshold > 1:
		return fmt.Errorf("knowledge: the relevance threshold %v is not between 0 and 1", c.Threshold)
	case c.Passages < 0 || c.Passages > 20:
		return fmt.Errorf("knowledge: %d passages per turn; 0 to 20", c.Passages)
	}
	return nil
}

func (c *Config) defaults() {
	if c.MaxUploadBytes == 0 {
		c.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if c.Threshold == 0 {
		c.Threshold = DefaultThreshold
	}
	if c.Passages == 0 {
		c.Passages = 4
	}
	if c.EmbedTimeout == 0 {
		c.EmbedTimeout = 2 * time.Second
	}
	if c.Member == "" {
		c.Member = "local"
	}
}

// Errors of the knowledge base's API; the gateway maps them to statuses.
var (
	// ErrInvalid: a field of the request is wrong (400).
	ErrInvalid = errors.New("invalid")
	// ErrTooLarge: the file is over the upload limit (413).
	ErrTooLarge = errors.New("too large")
)

// Service is the knowledge base of every tenant on this member. It is
// safe for concurrent use.
type Service struct {
	cfg     Config
	store   Store
	log     Log
	indexes *index.Set
	// tenants are the tenants this member holds an index of: a tenant
	// without documents gets none (searches find nothing without opening
	// one).
	tenants sync.Map
	logger  zerolog.Logger
	metrics *metrics
	now     func() time.Time
}

// New opens this member's indexes under cfg.Dir; Close closes them.
func New(cfg Config, store Store, log Log, logger zerolog.Logger, reg prometheus.Registerer) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	// A change is on disk when Replace returns: the indexer commits its
	// offset after it, so a crash loses no change the log will not repeat.
	cfg.Index.SyncWrites = true
	set, err := index.Open(cfg.Dir, cfg.Index)
	if err != nil {
		return nil, fmt.Errorf("knowledge: open indexes in %s: %w", cfg.Dir, err)
	}
	return &Service{cfg: cfg, store: store, log: log, indexes: set, logger: logger.With().Str("component", "knowledge").Logger(),
		metrics: m, now: time.Now}, nil
}

// NewWriter returns a knowledge base that only writes documents (a
// command beside the running members, such as the catalogue backfill): it
// opens no index and neither processes nor searches; the members do.
func NewWriter(store Store, log Log, logger zerolog.Logger) *Service {
	cfg := Config{}
	cfg.defaults()
	return &Service{cfg: cfg, store: store, log: log, logger: logger.With().Str("component", "knowledge").Logger(), now: time.Now}
}

// index returns the tenant's index on this member; without create, nil
// when it holds none.
func (s *Service) index(tenantID string, create bool) (*index.Index, error) {
	if _, ok := s.tenants.Load(tenantID); !ok && !create {
		return nil, nil
	}
	ix, err := s.indexes.Tenant(tenantID)
	if err != nil {
		return nil, fmt.Errorf("knowledge: open the index of tenant %s: %w", tenantID, err)
	}
	s.tenants.Store(tenantID, true)
	return ix, nil
}

// Close closes the indexes.
func (s *Service) Close() error {
	if s.indexes == nil {
		return nil
	}
	return s.indexes.Close()
}

// Threshold is the relevance from which a passage answers a question.
func (s *Service) Threshold() float64 { return s.cfg.Threshold }

// MaxUploadBytes is the largest file accepted.
func (s *Service) MaxUploadBytes() int64 { return s.cfg.MaxUploadBytes }

type metrics struct {
	processed *prometheus.CounterVec
	searches  *prometheus.HistogramVec
	indexed   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_knowledge_documents_processed_total",
			Help: "Knowledge document revisions processed, by outcome (ready, failed, superseded, retried).",
		}, []string{"outcome"}),
		searches: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "frontdesk_knowledge_search_seconds",
			Help:    "Knowledge searches (query embedding included), by mode (lexical, hybrid) and whether a relevant passage was found.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"mode", "relevant"}),
		indexed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_knowledge_index_changes_total",
			Help: "Changes applied to this member's knowledge indexes, by kind (replace, delete, rebuild).",
		}, []string{"kind"}),
	}
	for _, c := range []prometheus.Collector{m.processed, m.searches, m.indexed} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register knowledge metrics: %w", err)
		}
	}
	return m, nil
}
