-- The outline of each version drawn from the units' zoom 0-6 band (commune.geom_g1), in WGS84:
-- light enough to draw every CPTS of France at once on the national map, and seamless with its
-- neighbours and with the regions (all are unions of the same generalised coverage). Filled on
-- every write (app.repo.cpts.insert_version); here for the current version of existing CPTS.
-- It is drawn from the version's own units, so filling it changes nothing of the history: the
-- append-only trigger is set aside for this one statement of the migration's transaction.
ALTER TABLE cpts_version ADD COLUMN outline_g1 geometry(MultiPolygon, 4326);

ALTER TABLE cpts_version DISABLE TRIGGER cpts_version_append_only;
UPDATE cpts_version v
SET outline_g1 = (
    SELECT ST_Transform(ST_Multi(ST_Union(u.geom_g1)), 4326)
    FROM commune u WHERE u.code = ANY(v.units) AND u.geom_g1 IS NOT NULL)
FROM cpts c
WHERE c.id = v.cpts_id AND c.version = v.version;
ALTER TABLE cpts_version ENABLE TRIGGER cpts_version_append_only;
