-- Exact lookups filter on the hash alone: lead the unique index with it.
DROP INDEX persons_id_number;
CREATE UNIQUE INDEX persons_id_number ON persons (id_number_hash, city_id);
