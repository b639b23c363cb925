"""The cold-start benchmark's reading of ``python -X importtime``: which imports a function pays for."""

from __future__ import annotations

from bench.coldstart import heavy_packages, top_imports

STDERR = """\
import time: self [us] | cumulative | imported package
import time:       900 |        900 |     botocore.compat
import time:     40000 |      40900 |   botocore.client
import time:      2000 |      42900 | botocore
import time:     30000 |      30000 |   phonenumbers.data
import time:      5000 |      35000 | phonenumbers
import time:       100 |        100 | functions.core.contact
something else on stderr
"""


def test_the_heaviest_own_imports_are_named_by_their_self_time() -> None:
    assert top_imports(STDERR, top=2) == [("botocore.client", 0.04), ("phonenumbers.data", 0.03)]


def test_the_heaviest_packages_sum_their_modules_own_time() -> None:
    found = heavy_packages(STDERR, top=2)
    assert [name for name, _ in found] == ["botocore", "phonenumbers"]
    assert [round(cost, 6) for _, cost in found] == [0.0429, 0.035]
