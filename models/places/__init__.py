"""Administrative units of both eras (the gazetteer) and their lookups."""
