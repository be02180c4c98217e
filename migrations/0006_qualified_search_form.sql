-- pg_dump restores with an empty search_path: functions used by indexes must name the schema
-- of everything they call, or a restore fails while building commune_nom_trgm.
CREATE OR REPLACE FUNCTION search_form(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT pg_catalog.btrim(pg_catalog.regexp_replace(pg_catalog.lower(public.f_unaccent($1)),
                                                         '[^a-z0-9]+', ' ', 'g')) $$;
