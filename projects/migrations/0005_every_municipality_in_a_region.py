"""The nine sierra municipalities that had no region get the nearest of FICOSEC's six regions (its regional offices
cover the whole state), so that every project counts in the region figures.

Nearest by straight-line distance between municipal seats and regional offices (km, approximate): Batopilas ->
Cuauhtémoc 176 (Parral 206); Chínipas -> Cuauhtémoc 199; Guazapares -> Cuauhtémoc 186; Maguarichi -> Cuauhtémoc 126;
Morelos -> Parral 202 (Cuauhtémoc 209); Moris -> Cuauhtémoc 164; Ocampo -> Cuauhtémoc 149; Urique -> Cuauhtémoc 168
(Parral 226); Uruachi -> Cuauhtémoc 145."""

from django.db import migrations

NEAREST = {
    "08008": "cuauhtemoc",  # Batopilas de Manuel Gómez Morín
    "08020": "cuauhtemoc",  # Chínipas
    "08030": "cuauhtemoc",  # Guazapares
    "08041": "cuauhtemoc",  # Maguarichi
    "08046": "parral",  # Morelos
    "08047": "cuauhtemoc",  # Moris
    "08051": "cuauhtemoc",  # Ocampo
    "08065": "cuauhtemoc",  # Urique
    "08066": "cuauhtemoc",  # Uruachi
}


def seed(apps, schema_editor):
    Region = apps.get_model("projects", "Region")
    Municipality = apps.get_model("projects", "Municipality")
    regions = {region.slug: region for region in Region.objects.filter(slug__in=set(NEAREST.values()))}
    for code, slug in NEAREST.items():
        Municipality.objects.filter(inegi_code=code, region=None).update(region=regions[slug])


class Migration(migrations.Migration):
    dependencies = [("projects", "0004_list_and_sync_indexes")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
