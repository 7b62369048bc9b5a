-- Provider ids are unique per tenant, not across tenants: two tenants may
-- receive the same provider message id (a shared provider account, a test
-- number, ids that are only unique per business account), and one tenant's
-- delivery must never be taken for a duplicate of another's.
ALTER TABLE inbound_dedupe DROP CONSTRAINT inbound_dedupe_pkey;
ALTER TABLE inbound_dedupe ADD PRIMARY KEY (tenant_id, channel, dedupe_key);

DROP INDEX messages_channel_message;
CREATE UNIQUE INDEX messages_channel_message ON messages (tenant_id, channel, channel_message_id)
    WHERE channel_message_id <> '';
