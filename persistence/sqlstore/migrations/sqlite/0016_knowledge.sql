-- The knowledge base: what each document is and where its processing
-- stands, its file per revision, its chunks (with their vectors when an
-- embedding model is configured), and the customer questions turns
-- retrieved knowledge for (the coverage report).
ALTER TABLE knowledge_documents ADD COLUMN format TEXT NOT NULL DEFAULT '';
ALTER TABLE knowledge_documents ADD COLUMN kind TEXT NOT NULL DEFAULT 'article';
ALTER TABLE knowledge_documents ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE knowledge_documents ADD COLUMN source_url TEXT NOT NULL DEFAULT '';
ALTER TABLE knowledge_documents ADD COLUMN valid_from DATETIME;
ALTER TABLE knowledge_documents ADD COLUMN valid_until DATETIME;
ALTER TABLE knowledge_documents ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
ALTER TABLE knowledge_documents ADD COLUMN size_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE knowledge_documents ADD COLUMN error TEXT NOT NULL DEFAULT '';
ALTER TABLE knowledge_documents ADD COLUMN chunk_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE knowledge_documents ADD COLUMN external_key TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX knowledge_documents_external ON knowledge_documents (tenant_id, external_key) WHERE external_key <> '';
CREATE INDEX knowledge_documents_status ON knowledge_documents (tenant_id, status, created_at);

-- A document's file, one row per revision (a new version adds one; the
-- document's delete removes them).
CREATE TABLE knowledge_sources (
    document_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    tenant_id TEXT NOT NULL,
    file_name TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (document_id, revision)
);

-- The passages of a document's current revision. A new revision replaces
-- them in one transaction.
CREATE TABLE knowledge_chunks (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    heading TEXT NOT NULL,
    question TEXT NOT NULL,
    text TEXT NOT NULL,
    vector BLOB
);
CREATE INDEX knowledge_chunks_document ON knowledge_chunks (tenant_id, document_id, ordinal);

-- One row per turn that retrieved knowledge: the question, the best
-- passage's relevance and whether the reply cited a source.
CREATE TABLE knowledge_questions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    turn_id TEXT NOT NULL,
    asked_at DATETIME NOT NULL,
    question TEXT NOT NULL,
    best_relevance REAL NOT NULL,
    relevant INTEGER NOT NULL,
    answered_with_sources INTEGER NOT NULL,
    UNIQUE (tenant_id, turn_id)
);
CREATE INDEX knowledge_questions_time ON knowledge_questions (tenant_id, asked_at);
