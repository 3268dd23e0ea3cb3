"""doodle's version: recorded in every image it writes (:mod:`doodle.provenance`)."""

__version__ = "0.5.0"
