"""OGC API – Features (Part 1 Core + GeoJSON, Part 2 CRS) served under `/ogc/`.

`protocol` holds the pure parts of the protocol (coordinate reference systems, parameters,
generalisation bands, geometry encoding); `app.services.ogc` the collections and what each user
may read of them; `app.api.ogc` the routes.
"""
