-- CPTS and their perimeters. A CPTS has a current state (`cpts`) and an append-only history
-- of versions (`cpts_version`): every change of name, status or perimeter is a new version with
-- its author, reason, effective date, full list of units and diff against the previous one.
-- `cpts_member` mirrors the units of the current version for indexed overlap look-ups.
-- Nothing is ever deleted: archiving is a version too, and takes the CPTS out of coverage.

CREATE TABLE size_rule (
    id                    text PRIMARY KEY,
    label                 text NOT NULL,
    thresholds            integer[] NOT NULL,    -- lower bounds of tailles 2, 3 and 4
    lower_bound_inclusive boolean NOT NULL,      -- true: exactly 40 000 is taille 2
    ceilings_eur          integer[] NOT NULL,    -- annual ceiling per taille, NULL when unknown
    source                text NOT NULL,
    valid_from            date NOT NULL,
    valid_to              date,
    CHECK (cardinality(thresholds) = 3 AND cardinality(ceilings_eur) = 4)
);

INSERT INTO size_rule VALUES
('aci-2019', 'ACI CPTS 2019', '{40000,80000,175000}', true, '{220000,287000,370000,450000}',
 'Accord conventionnel interprofessionnel en faveur des CPTS du 20 juin 2019 (arrêté du '
 '21 août 2019, JO du 24 août 2019) : financement annuel maximal par taille, fonctionnement '
 'et missions compris. Les textes ne disent pas à quelle taille appartient une population '
 'égale à un seuil : ici la borne inférieure est incluse (40 000 habitants = taille 2).',
 '2019-08-24', '2022-01-01'),
('aci-2022', 'ACI CPTS après avenants', '{40000,80000,175000}', true, '{237500,NULL,NULL,530000}',
 'Avenants à l''ACI CPTS (2021-2022) : plafonds revalorisés jusqu''à environ 237 500 € '
 '(taille 1) et 530 000 € (taille 4, avec au moins 100 adhérents). Les plafonds des tailles 2 '
 'et 3 ne sont pas repris dans nos sources : à compléter depuis le texte de l''avenant. '
 'Mêmes seuils ; borne inférieure incluse.',
 '2022-01-01', NULL);

CREATE TABLE cpts (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    status            text NOT NULL
        CHECK (status IN ('pre_projet', 'lettre_intention', 'projet_sante', 'aci_signe')),
    region            text NOT NULL,             -- of the registered office: agency in charge
    siege_commune     text,                      -- registered office
    is_scenario       boolean NOT NULL DEFAULT false,  -- an agency's private scenario
    version           integer NOT NULL DEFAULT 1,
    validated_version integer,                   -- frozen when the agency accepted a stage
    submitted_at      timestamptz,               -- a draft handed to the agency
    pending_status    text,                      -- the stage the carrier asked for
    archived_at       timestamptz,
    stage_dates       jsonb NOT NULL DEFAULT '{}',  -- {"lettre_intention": "2024-03-01", …}
    created_at        timestamptz NOT NULL DEFAULT now(),
    created_by        bigint REFERENCES app_user (id)
);
CREATE INDEX cpts_region ON cpts (region);
CREATE INDEX cpts_status ON cpts (status) WHERE archived_at IS NULL;

CREATE TABLE cpts_version (
    cpts_id         bigint NOT NULL REFERENCES cpts (id),
    version         integer NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    author_id       bigint REFERENCES app_user (id),
    author_email    text,
    reason          text,
    effective_date  date NOT NULL,
    name            text NOT NULL,
    status          text NOT NULL,
    archived        boolean NOT NULL DEFAULT false,
    units           text[] NOT NULL,
    added           text[] NOT NULL DEFAULT '{}',
    removed         text[] NOT NULL DEFAULT '{}',
    population      integer NOT NULL,
    population_year integer NOT NULL,
    size_class      smallint NOT NULL,
    size_rule       text NOT NULL REFERENCES size_rule (id),
    outline         geometry(MultiPolygon, 4326),
    PRIMARY KEY (cpts_id, version)
);
-- "The perimeters as they stood on day D": the last version of each CPTS effective by D.
CREATE INDEX cpts_version_effective ON cpts_version (effective_date, cpts_id, version);

CREATE TABLE cpts_member (
    cpts_id bigint NOT NULL REFERENCES cpts (id),
    code    text NOT NULL,
    PRIMARY KEY (cpts_id, code)
);
CREATE INDEX cpts_member_code ON cpts_member (code);

-- The dated steps of a CPTS: creation, stage requests, acceptances, requests for changes.
CREATE TABLE cpts_event (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cpts_id     bigint NOT NULL REFERENCES cpts (id),
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind        text NOT NULL CHECK (kind IN ('created', 'submitted', 'stage_requested',
                                              'stage_accepted', 'changes_requested',
                                              'archived', 'restored')),
    from_status text,
    to_status   text,
    version     integer,
    actor_id    bigint REFERENCES app_user (id),
    actor_email text,
    comment     text
);
CREATE INDEX cpts_event_cpts ON cpts_event (cpts_id, at);

-- Comments attached to units (an agency asking for changes on given communes).
CREATE TABLE cpts_comment (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cpts_id   bigint NOT NULL REFERENCES cpts (id),
    event_id  bigint REFERENCES cpts_event (id),
    code      text,
    body      text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    author_id bigint REFERENCES app_user (id)
);
CREATE INDEX cpts_comment_cpts ON cpts_comment (cpts_id);

ALTER TABLE user_cpts ADD CONSTRAINT user_cpts_cpts_fk FOREIGN KEY (cpts_id) REFERENCES cpts (id);

-- History is never rewritten: versions, events and comments cannot be changed or removed.
CREATE FUNCTION refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'l''historique des CPTS ne se modifie pas (%)', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER cpts_version_append_only BEFORE UPDATE OR DELETE ON cpts_version
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER cpts_event_append_only BEFORE UPDATE OR DELETE ON cpts_event
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER cpts_no_delete BEFORE DELETE ON cpts
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
