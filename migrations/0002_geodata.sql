-- Reference geography: communes and arrondissements municipaux (the units of perimeters),
-- the areas they are compared with, their adjacency, and the release they come from.
-- Geometries: `geom` in WGS84 for the API; `geom_3857` and three generalised bands in
-- Web Mercator for vector tiles (generalised together as a coverage at load time).

CREATE TABLE geodata_release (
    id               serial PRIMARY KEY,
    cog_year         integer NOT NULL,
    population_year  integer NOT NULL,
    geometry_vintage text NOT NULL,
    sources          jsonb NOT NULL,
    scope            jsonb NOT NULL,
    report           jsonb NOT NULL,
    loaded_at        timestamptz NOT NULL DEFAULT now(),
    is_current       boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX geodata_release_one_current ON geodata_release (is_current) WHERE is_current;

CREATE TABLE region (
    code      text PRIMARY KEY,
    nom       text NOT NULL,
    geom      geometry(MultiPolygon, 4326),
    geom_3857 geometry(MultiPolygon, 3857),
    geom_g1   geometry(MultiPolygon, 3857),
    geom_g2   geometry(MultiPolygon, 3857),
    geom_g3   geometry(MultiPolygon, 3857)
);

CREATE TABLE departement (
    code      text PRIMARY KEY,
    nom       text NOT NULL,
    region    text NOT NULL,
    geom      geometry(MultiPolygon, 4326),
    geom_3857 geometry(MultiPolygon, 3857),
    geom_g1   geometry(MultiPolygon, 3857),
    geom_g2   geometry(MultiPolygon, 3857),
    geom_g3   geometry(MultiPolygon, 3857)
);

CREATE TABLE epci (
    code      text PRIMARY KEY,          -- SIREN
    nom       text NOT NULL,
    type      text NOT NULL,             -- CC, CA, CU, METRO, MET69
    geom      geometry(MultiPolygon, 4326),
    geom_3857 geometry(MultiPolygon, 3857),
    geom_g1   geometry(MultiPolygon, 3857),
    geom_g2   geometry(MultiPolygon, 3857),
    geom_g3   geometry(MultiPolygon, 3857)
);

CREATE TABLE bassin_de_vie (
    code      text PRIMARY KEY,          -- BV2022
    nom       text NOT NULL,
    geom      geometry(MultiPolygon, 4326),
    geom_3857 geometry(MultiPolygon, 3857),
    geom_g1   geometry(MultiPolygon, 3857),
    geom_g2   geometry(MultiPolygon, 3857),
    geom_g3   geometry(MultiPolygon, 3857)
);

-- Communes (type COM) and arrondissements municipaux (type ARM). A perimeter is made of units:
-- every commune except Paris, Lyon and Marseille, whose units are their arrondissements.
CREATE TABLE commune (
    code             text PRIMARY KEY,
    nom              text NOT NULL,
    type             text NOT NULL CHECK (type IN ('COM', 'ARM')),
    parent           text REFERENCES commune (code) DEFERRABLE INITIALLY DEFERRED,
    is_unit          boolean NOT NULL,
    departement      text NOT NULL,
    region           text NOT NULL,
    epci             text,
    bassin_de_vie    text,
    codes_postaux    text[] NOT NULL DEFAULT '{}',
    population       integer NOT NULL CHECK (population >= 0),
    population_year  integer NOT NULL,
    area_m2          double precision,
    has_polygon      boolean NOT NULL,
    polygon_note     text,               -- why a commune has no polygon, or how it was built
    geom             geometry(MultiPolygon, 4326),
    geom_3857        geometry(MultiPolygon, 3857),
    geom_g1          geometry(MultiPolygon, 3857),   -- zooms 0-6
    geom_g2          geometry(MultiPolygon, 3857),   -- zooms 7-8
    geom_g3          geometry(MultiPolygon, 3857),   -- zooms 9-10
    point            geometry(Point, 4326),
    CHECK (has_polygon = (geom IS NOT NULL)),
    CHECK ((type = 'ARM') = (parent IS NOT NULL))
);
CREATE INDEX commune_departement ON commune (departement);
CREATE INDEX commune_region ON commune (region);
CREATE INDEX commune_epci ON commune (epci);
CREATE INDEX commune_bassin_de_vie ON commune (bassin_de_vie);
CREATE INDEX commune_parent ON commune (parent);
CREATE INDEX commune_nom_trgm ON commune USING gin (search_form(nom) gin_trgm_ops);
CREATE INDEX commune_codes_postaux ON commune USING gin (codes_postaux);
CREATE INDEX commune_geom ON commune USING gist (geom);
CREATE INDEX commune_geom_3857 ON commune USING gist (geom_3857);
CREATE INDEX commune_geom_g1 ON commune USING gist (geom_g1);
CREATE INDEX commune_geom_g2 ON commune USING gist (geom_g2);
CREATE INDEX commune_geom_g3 ON commune USING gist (geom_g3);

-- Former codes (merged communes, communes déléguées and associées) and where they went.
CREATE TABLE commune_history (
    old_code  text NOT NULL,
    old_nom   text,
    new_code  text NOT NULL,
    kind      text NOT NULL,   -- deleguee, associee, ancien_code
    PRIMARY KEY (old_code, new_code)
);
CREATE INDEX commune_history_new ON commune_history (new_code);

-- Units sharing a border (both directions), with the length of the shared border.
CREATE TABLE unit_adjacency (
    code      text NOT NULL,
    neighbour text NOT NULL,
    border_m  double precision NOT NULL,
    PRIMARY KEY (code, neighbour)
);

-- Territories with no polygon (collectivités d'outre-mer) kept out of the map, for the record.
CREATE TABLE commune_outside_map (
    code        text PRIMARY KEY,
    nom         text NOT NULL,
    collectivite text NOT NULL,
    population  integer
);
