"""The geodata pipeline: fetch the sources, reconcile COG vintages, clean the coverage,
generalise it, and load communes and reference layers into PostGIS."""
