"""Access log (audit), pure rules: how much of the log one page shows, how an entry reads to the person, and the
domain's port. No Flask, no pynamodb: the log's table is the kernel's (``functions.core.audit``, ADR 0010) and
this domain reads it through ``AccessLogStore``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the port names the kernel's record and unit of work; this module stays free of the store
    from functions.core.audit import AccessRecord
    from functions.core.store import UnitOfWork

DEFAULT_PAGE = 50
MAX_PAGE = 200  # entries per page: a person's log may hold thousands, a page is read in one Query


def page_size(requested: int) -> int:
    """The entries a page holds: what was asked, within 1 and ``MAX_PAGE``."""
    return min(max(requested, 1), MAX_PAGE)


def entry_view(record: AccessRecord) -> dict[str, Any]:
    """One log entry as the citizen reads it: who (role, level, area, id), why, what, and the decision."""
    return record.model_dump(mode="json", exclude={"citizen_id"})


class AccessLogStore(Protocol):
    """What the access-log domain reads and deletes (``storage.DynamoAuditStore`` in production; an in-memory
    fake in the handlers' unit tests). Appending is the HTTP kernel's, never this domain's."""

    def fetch_page(self, citizen_id: str, limit: int, cursor: str | None) -> tuple[list[AccessRecord], str | None]:
        """Newest first, ``limit`` at a time, and the cursor of the next page (``None``: no more); a cursor the
        store did not give for this citizen's log is a ``ValueError``."""
        ...

    def fetch_all(self, citizen_id: str) -> list[AccessRecord]: ...
    def stage_erase(self, uow: UnitOfWork, record: AccessRecord) -> None: ...
