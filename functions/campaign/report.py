"""A campaign's impact report as CSV and as a plot (matplotlib, PNG or SVG), from ``service.report``'s counters:
one row per breakdown (district, channel, variant) and metric, and a grouped bar chart by district."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any, Literal

from functions.core.csvfile import to_csv
from functions.core.madrid import find_zone

SHOWN = ("sent", "delivered", "failed", "not_allowed", "opened", "clicked", "unsubscribed", "conversions")
COLUMNS = ["breakdown", "key", "name", *SHOWN]

LABELS: dict[str, dict[str, str]] = {
    "es": {"title": "Impacto de la campaña {name}, por distrito", "ylabel": "mensajes", "empty": "aún sin datos",
           "sent": "enviados", "delivered": "entregados", "failed": "fallidos", "not_allowed": "no permitidos",
           "opened": "abiertos", "clicked": "clics", "unsubscribed": "bajas", "conversions": "conversiones"},
    "en": {"title": "Impact of campaign {name}, by district", "ylabel": "messages", "empty": "no data yet",
           "sent": "sent", "delivered": "delivered", "failed": "failed", "not_allowed": "not allowed",
           "opened": "opened", "clicked": "clicked", "unsubscribed": "unsubscribed", "conversions": "conversions"},
}  # fmt: skip


def _name(breakdown: str, key: str) -> str:
    if breakdown == "district":
        zone = find_zone(key)
        return zone.name if zone else key
    return key


def as_csv(found: Mapping[str, Any]) -> str:
    """Totals first, then one row per district, channel and variant (cells neutralised by the kernel's writer)."""
    rows = [{"breakdown": "total", "key": "", "name": "", **{m: found["totals"].get(m, 0) for m in SHOWN}}]
    for breakdown in ("district", "channel", "variant"):
        for key, cell in found[f"by_{breakdown}"].items():
            rows.append({"breakdown": breakdown, "key": key, "name": _name(breakdown, key),
                         **{m: cell.get(m, 0) for m in SHOWN}})  # fmt: skip
    return to_csv(rows, COLUMNS)


def plot(found: Mapping[str, Any], name: str, fmt: Literal["png", "svg"], language: str = "es") -> bytes:
    """Sent, delivered and failed per district, labelled in ``language``; matplotlib is imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    words = LABELS.get(language, LABELS["es"])
    districts = list(found["by_district"])
    measures = ("sent", "delivered", "failed")
    figure, axes = plt.subplots(figsize=(max(6.0, 0.9 * len(districts) + 2), 4), dpi=100)
    width = 0.8 / len(measures)
    for i, measure in enumerate(measures):
        xs = [k + i * width for k in range(len(districts))]
        axes.bar(xs, [found["by_district"][d].get(measure, 0) for d in districts], width, label=words[measure])
    labels = [_name("district", d) for d in districts]
    axes.set_xticks([k + width for k in range(len(districts))], labels, rotation=20, ha="right")
    axes.set_ylabel(words["ylabel"])
    axes.set_title(words["title"].format(name=name))
    if districts:
        axes.legend(loc="upper right", fontsize=8)
    else:
        axes.text(0.5, 0.5, words["empty"], ha="center", va="center", transform=axes.transAxes)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata={"Software": None} if fmt == "png" else {"Date": None})
    plt.close(figure)
    return buffer.getvalue()
