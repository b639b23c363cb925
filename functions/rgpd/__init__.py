"""Data-subject rights (RGPD): access, portability, rectification, erasure, restriction, objection."""
