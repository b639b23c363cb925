"""PIC's event contracts: pydantic models of every CloudEvent ``data`` and the catalog."""
