"""FICOSEC's regions and the 67 municipalities of Chihuahua (INEGI codes, from projects/data/).

Which municipality belongs to which region is FICOSEC's operating convention and is editable afterwards; the
sierra municipalities without a regional office belong to none."""

import csv
from pathlib import Path

from django.db import migrations
from django.utils.text import slugify

CSV = Path(__file__).resolve().parent.parent / "data" / "chihuahua_municipalities.csv"

REGIONS = [
    ("Juárez", "juarez", ["08037", "08053", "08028", "08001"]),
    (
        "Chihuahua",
        "chihuahua",
        ["08019", "08004", "08002", "08061", "08054", "08052", "08015", "08042", "08038", "08024"],
    ),
    (
        "Cuauhtémoc",
        "cuauhtemoc",
        [
            "08017",
            "08009",
            "08031",
            "08048",
            "08006",
            "08018",
            "08012",
            "08040",
            "08063",
            "08043",
            "08027",
            "08026",
            "08022",
        ],
    ),
    ("Delicias", "delicias", ["08021", "08045", "08055", "08062", "08011", "08016", "08058"]),
    (
        "Parral",
        "parral",
        [
            "08032",
            "08036",
            "08060",
            "08059",
            "08003",
            "08044",
            "08014",
            "08067",
            "08033",
            "08056",
            "08007",
            "08029",
            "08039",
            "08064",
            "08049",
            "08057",
        ],
    ),
    (
        "Nuevo Casas Grandes",
        "nuevo-casas-grandes",
        ["08050", "08013", "08035", "08005", "08010", "08025", "08034", "08023"],
    ),
]


def seed(apps, schema_editor):
    Region = apps.get_model("projects", "Region")
    Municipality = apps.get_model("projects", "Municipality")
    region_of = {}
    for order, (name, slug, codes) in enumerate(REGIONS, start=1):
        region, _ = Region.objects.update_or_create(slug=slug, defaults={"name": name, "order": order})
        region_of.update(dict.fromkeys(codes, region))
    with CSV.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = row["inegi_code"]
            Municipality.objects.update_or_create(
                inegi_code=code,
                defaults={"name": row["name"], "slug": slugify(row["name"]), "region": region_of.get(code)},
            )


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
