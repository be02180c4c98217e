-- Extensions the project relies on: PostGIS for geometry, unaccent and pg_trgm for name search.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- unaccent() is only STABLE; an IMMUTABLE wrapper lets indexes use it.
CREATE OR REPLACE FUNCTION f_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

-- The form names are searched in: no accents, lower case, hyphens and apostrophes as spaces.
CREATE OR REPLACE FUNCTION search_form(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT btrim(regexp_replace(lower(f_unaccent($1)), '[^a-z0-9]+', ' ', 'g')) $$;
