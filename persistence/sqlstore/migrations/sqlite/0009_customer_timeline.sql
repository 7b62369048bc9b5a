-- The customer view (Customer 360) lists a customer's conversations,
-- orders, tickets and payment intents. Conversations, orders and tickets
-- have an index leading with (tenant_id, customer_id) since 0001; payment
-- intents get theirs here, with created_at for the newest-first order.
-- Keep in step with migrations/postgres/0009_customer_timeline.sql.
CREATE INDEX payment_intents_customer ON payment_intents (tenant_id, customer_id, created_at);
