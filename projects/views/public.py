"""The public catalogue: pages anyone may read. Only published projects exist here (Project.objects.visible_to)."""
