"""Cyber: STIX 2.1 objects, TLP 2.0 as policy input, TAXII 2.1 for each country's own tools, MISP interop."""
