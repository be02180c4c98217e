-- One layer of one Mapbox vector tile.
-- Composed with psycopg.sql: {table}, {geom} (the generalisation band of the zoom), {attributes}
-- and {condition} are identifiers or fixed fragments; the tile and the encoding are parameters.
-- The bounding-box test on the band column is what lets the GiST index of that band be used.
-- ST_AsMVT skips the features ST_AsMVTGeom dropped (NULL); filtering them here instead would
-- make the planner compute ST_AsMVTGeom twice per row.
SELECT ST_AsMVT(feature, %(layer)s, %(extent)s::int, 'geom') AS tile
FROM (
    SELECT ST_AsMVTGeom(t.{geom}, ST_TileEnvelope(%(z)s::int, %(x)s::int, %(y)s::int),
                        %(extent)s::int, %(buffer)s::int, true) AS geom,
           {attributes}
    FROM {table} AS t
    WHERE t.{geom} && ST_TileEnvelope(%(z)s::int, %(x)s::int, %(y)s::int,
                                      margin => %(margin)s::float8)
      AND {condition}
) AS feature
