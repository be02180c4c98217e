-- Alerts raised on a CPTS by the migration of its perimeter to a new COG (a partial merge, a
-- restored or split commune, an unknown code): shown with the CPTS until its perimeter is
-- changed again, kept for the record. Written in the transaction of `cpts geodata load`.
CREATE TABLE cpts_alert (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cpts_id    bigint NOT NULL REFERENCES cpts (id),
    version    integer NOT NULL,         -- the version written by the migration
    code       text NOT NULL,            -- cog_partial_merge, cog_split, cog_restored_commune, …
    detail     text NOT NULL,
    communes   text[] NOT NULL DEFAULT '{}',
    origin     text NOT NULL,            -- « COG 2027 »
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (cpts_id, version) REFERENCES cpts_version (cpts_id, version)
);
CREATE INDEX cpts_alert_cpts ON cpts_alert (cpts_id, version);
