"""The other half of the README's walk-throughs (``MORE``), on a platform of their own, so that a second pytest-xdist
worker runs them beside the first half: each run twice from a directory outside the repository, as
``test_readme_walkthroughs.py`` says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.harness import Platform, start_platform
from tests.functional.core.test_readme_walkthroughs import MORE, check_walk_through

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def more_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A platform of its own: the walk-throughs write templates and data the other tests do not expect."""
    data_dir = tmp_path_factory.mktemp("readme-more") / "data"
    data_dir.mkdir()
    running = start_platform(data_dir)
    yield running
    running.stop()


@pytest.mark.parametrize("title", sorted(MORE))
def test_a_walk_through_runs_twice_from_anywhere(more_platform: Platform, tmp_path: Path, title: str) -> None:
    check_walk_through(more_platform, tmp_path, title)
