-- The key ring's authentication (src/keys/stores/ring-mac.ts): every custodian change writes the
-- ring's generation (one more each change; an instance never goes back to a lower one), the salt
-- of the MAC key derived from KEYS_PASSPHRASE, a check value that proves the passphrase, and an
-- HMAC over the canonical rows and the generation. A row changed by anything but `npm run keys`
-- no longer matches the MAC, and every gateway refuses the ring.
alter table key_ring
  add column generation bigint not null default 0,
  add column ring_salt text,
  add column ring_check text,
  add column ring_mac text;
