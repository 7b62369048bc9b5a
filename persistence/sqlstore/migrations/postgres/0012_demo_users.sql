-- Demo users (the demo admin that FRONTDESK_DEMO creates with a public
-- password) are marked, so that a start outside demo mode refuses them.
-- A database that ran demo mode before this column existed holds its demo
-- admin under the demo address: mark it too.
ALTER TABLE users ADD COLUMN demo BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET demo = TRUE WHERE email = 'admin@demo.local';
