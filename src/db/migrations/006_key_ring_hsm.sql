-- Keys held by a PKCS#11 token (custody 'hsm'): the row records where the key is, never any of
-- its private material. hsm_token is the token's label, hsm_id the CKA_ID of the key pair in it
-- (the kid). Written by `npm run keys -- generate --hsm` and `rotate` (src/keys/pkcs11/).
alter table key_ring_keys
  add column hsm_token text,
  add column hsm_id text,
  add constraint key_ring_keys_hsm_check check (
    (custody = 'hsm') = (hsm_token is not null and hsm_id is not null)
    and (custody <> 'hsm' or sealed_private_jwk is null)
  );
