"""HTML views: `public` holds the catalogue everybody may read, `staff` the workspace under /gestion/."""
