-- Demo users (the demo admin that FRONTDESK_DEMO creates with a public
-- password) are marked, so that a start outside demo mode refuses them.
-- A data dir that ran demo mode before this column existed holds its demo
-- admin under the demo address: mark it too.
ALTER TABLE users ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;
UPDATE users SET demo = 1 WHERE email = 'admin@demo.local';
