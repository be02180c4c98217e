-- Indicator tables uploaded by administrators and agencies: one row per commune or
-- arrondissement, each column declared with its label, unit, source, vintage and aggregation
-- rule. Every import is a new version (nothing is overwritten); a table is read at its latest
-- vintage unless a vintage is asked for. Values are stored per unit code, aligned with the
-- declared columns (numbers and categories in two arrays).

CREATE TABLE indicator_table (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9_]{0,62}$'),
    title       text NOT NULL,
    visibility  text NOT NULL CHECK (visibility IN ('public', 'restricted')),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by  bigint REFERENCES app_user (id)
);

CREATE TABLE indicator_version (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_id    bigint NOT NULL REFERENCES indicator_table (id),
    vintage     text NOT NULL,           -- millésime, as declared (« 2024 », « 2022-2024 »)
    source      text NOT NULL,
    visibility  text NOT NULL CHECK (visibility IN ('public', 'restricted')),
    match_by    text NOT NULL CHECK (match_by IN ('code', 'postal_code')),
    filename    text,
    rows        integer NOT NULL,
    matched     integer NOT NULL,
    report      jsonb NOT NULL,          -- the match report: unmatched, ambiguous, merged rows
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by  bigint REFERENCES app_user (id),
    cog_release integer                  -- geodata_release the codes were matched against
);
CREATE INDEX indicator_version_table ON indicator_version (table_id, vintage, id);

CREATE TABLE indicator_column (
    version_id  bigint NOT NULL REFERENCES indicator_version (id),
    position    integer NOT NULL,
    key         text NOT NULL,
    header      text NOT NULL,           -- the column read in the file
    label       text NOT NULL,
    unit        text,
    source      text NOT NULL,
    vintage     text NOT NULL,
    aggregation text NOT NULL CHECK (aggregation IN ('sum', 'mean', 'share', 'min', 'max')),
    weight      text,                    -- mean: 'population' or the key of another column
    categories  jsonb,                   -- share: [{"value": …, "label": …}, …]
    PRIMARY KEY (version_id, position),
    UNIQUE (version_id, key)
);

CREATE TABLE indicator_value (
    version_id  bigint NOT NULL REFERENCES indicator_version (id),
    commune     text NOT NULL,           -- unit code (commune or arrondissement) of the COG
    numbers     double precision[] NOT NULL,  -- by column position; NULL: no value or a category
    categories  text[] NOT NULL,              -- by column position; NULL: no value or a number
    lines       integer[] NOT NULL,           -- the lines of the file that gave these values
    PRIMARY KEY (version_id, commune)
);
