"""Use cases: one function per thing a user or an edge asks for."""
