"""The staff workspace under /gestion/: editors capture projects, coordinators review, publish and manage keys."""
