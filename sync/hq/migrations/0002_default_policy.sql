-- depends: 0001_initial
-- The token policy HQ starts with (DOMAIN.md): 1 ST unit per tetri; own nodes 48/3/49, franchise 25/24/3/48.
INSERT INTO token_policies (version, data, update_seq)
SELECT 1, '{"version": 1, "rate_num": 1, "rate_den": 1, "shares": {"own": {"owner": 4800, "charity": 300, "customer": 4900}, "franchise": {"owner": 2500, "franchisee": 2400, "charity": 300, "customer": 4800}}}'::jsonb,
       nextval('update_seq')
WHERE NOT EXISTS (SELECT 1 FROM token_policies);
