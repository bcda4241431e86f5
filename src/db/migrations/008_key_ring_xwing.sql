-- X-Wing keys (ML-KEM-768 + X25519, the hybrid KEM of HPKE tokens, docs/TOKENS.md) in the fleet's
-- ring: crv names the curve or 'X-Wing'; the sealed private JWK is the AKP form holding the seed.
alter table key_ring_keys drop constraint key_ring_keys_crv_check;
alter table key_ring_keys
  add constraint key_ring_keys_crv_check check (crv in ('P-256', 'X25519', 'X-Wing'));
