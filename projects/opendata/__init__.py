"""Open data in international standards: IATI 2.03 and 360Giving 1.4.3, validated against vendored schemas."""
