-- The length of each unit's boundary shared with no other unit (coast, national border, or
-- an unloaded neighbour): a unit with such an edge can never be an enclave.
ALTER TABLE commune ADD COLUMN edge_m double precision;
COMMENT ON COLUMN commune.edge_m IS
    'Longueur (m) de la limite qui ne touche aucune autre unité : littoral ou frontière';
