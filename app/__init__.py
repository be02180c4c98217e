"""CPTS territories: communes, perimeters, size classes, overlaps and zones blanches."""

__version__ = "0.1.0"
