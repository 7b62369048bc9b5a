-- An agent profile's money policy: what its financial tools may do on the
-- customer's yes alone, and what needs a supervisor's approval.
ALTER TABLE agent_profiles ADD COLUMN policy JSONB NOT NULL DEFAULT '{}';
CREATE INDEX confirmations_state ON confirmations (tenant_id, state, created_at, id);
CREATE INDEX confirmations_conversation ON confirmations (tenant_id, conversation_id, created_at);
