-- The beneficiary's HICN (the identifier before the MBI), as BFD's column of the same name, for
-- the encrypted HICN search (off by default; HICN_SEARCH_ENABLED). Null when there is none.
alter table beneficiaries add column hicn_unhashed varchar(11);

create index beneficiaries_hicn_unhashed_idx on beneficiaries (hicn_unhashed);
