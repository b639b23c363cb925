"""The campaign dispatcher: ``python -m functions.campaign.dispatch``.

Each tick (1 s, ``PIC_CAMPAIGN_DISPATCH_SECONDS``) it reads the campaigns scheduled or running (the sparse index
``active``) and runs ``handlers.dispatch_campaign`` on each until the tick's page budget is spent: a due run
starts (its members' snapshot), a running one hands its next page to NOT. Each page commits the cursor's advance
and its ``notification.batch.requested`` together, under the campaign's revision, so two dispatchers (a rolling
update) never both send a page, and a crash re-sends at most one page, which NOT's derived ids make harmless. A
pause or a cancel commits a new revision: the dispatcher's next page loses its race and sees it, within a tick.

Runs as the ``pic-campaign-dispatch`` Deployment (one replica) and, locally, in ``make run``'s ``campaign-dispatch``
part.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable

from functions.campaign import handlers
from functions.campaign.bootstrap import ports
from functions.campaign.handlers import CampaignPorts
from functions.core import periodic
from functions.core.errors import PicError
from functions.core.retry import retry_on_conflict

PAGES_PER_TICK = 20  # a tick hands at most 20 pages (5,000 people) per campaign: pauses are seen within a tick


def tick(p: CampaignPorts, pages: int = PAGES_PER_TICK) -> int:
    """One pass over the active campaigns; how many people were handed to NOT."""
    handed = 0
    for campaign in p.store.fetch_active():
        for _ in range(pages):
            try:
                sent = retry_on_conflict(_attempt(campaign.id, p), what=f"dispatch {campaign.id}")
            except PicError as exc:  # one campaign's refusal must not stop the others
                print(f"campaign dispatch: {campaign.id}: {exc.slug}: {exc.detail}", file=sys.stderr)
                break
            handed += sent
            current = p.store.fetch_campaign(campaign.id)
            if (
                current is None
                or current.state != "running"
                or (sent == 0 and current.phase == "snapshot" and current.cursor == campaign.cursor)
            ):
                break
            campaign = current
    return handed


def _attempt(campaign_id: str, p: CampaignPorts) -> Callable[[], int]:
    def attempt() -> int:
        staged = handlers.dispatch_campaign(campaign_id, p)
        if len(staged.unit):
            staged.unit.commit()
        return staged.result

    return attempt


def run_forever(stop: threading.Event, every: float | None = None) -> None:
    """Poll until ``stop``; after each good pass touch ``PIC_CAMPAIGN_HEARTBEAT`` (if set) for the probes."""
    every = every if every is not None else float(os.environ.get("PIC_CAMPAIGN_DISPATCH_SECONDS", "1"))
    periodic.run_forever(stop, lambda: tick(ports()), every=every, heartbeat_env="PIC_CAMPAIGN_HEARTBEAT",
                         what="campaign dispatch")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.campaign.dispatch", description=__doc__)
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    args = parser.parse_args(argv)
    if args.once:
        print(f"handed {tick(ports())} people to NOT")
        return 0
    return periodic.until_interrupted(run_forever)


if __name__ == "__main__":
    sys.exit(main())
