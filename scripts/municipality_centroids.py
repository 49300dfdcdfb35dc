"""Compute the centroid of each municipality of Chihuahua, once, for the IATI <location> points.

Run: python3 scripts/municipality_centroids.py ../shared/data/chihuahua_municipalities.geojson \
         > projects/opendata/data/municipality_centroids.csv
Area-weighted centroid of the (single, hole-free) polygon of each feature, in WGS84 degrees, 4 decimals (~11 m).
"""

import csv
import json
import sys

data = json.load(open(sys.argv[1]))
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(["inegi_code", "name", "latitude", "longitude"])
for f in sorted(data["features"], key=lambda f: f["properties"]["inegi_code"]):
    ring = f["geometry"]["coordinates"][0][0]
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=False):
        c = x0 * y1 - x1 * y0
        a += c
        cx += (x0 + x1) * c
        cy += (y0 + y1) * c
    a /= 2
    w.writerow([f["properties"]["inegi_code"], f["properties"]["name"], f"{cy / (6 * a):.4f}", f"{cx / (6 * a):.4f}"])
