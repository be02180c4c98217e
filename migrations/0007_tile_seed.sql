-- Commune tiles of the low zooms, rendered once per geodata release at load time: a zoom-6
-- tile holds up to ~12,000 communes and costs ~100 ms to draw, too slow to draw on request.
CREATE TABLE tile_seed (
    release_id integer NOT NULL REFERENCES geodata_release (id) ON DELETE CASCADE,
    layer      text NOT NULL,
    z          smallint NOT NULL,
    x          integer NOT NULL,
    y          integer NOT NULL,
    tile       bytea NOT NULL,
    PRIMARY KEY (release_id, layer, z, x, y)
);
