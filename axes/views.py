"""Pages of the strategic framework: the four axes and their projects."""
