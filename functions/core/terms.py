"""The consent terms compliance officers edit beside the policy (``policies/consent/data.json``):
purposes, channels, versioned consent texts per language, alert topics.

Platform data, not a domain's: the consent domain records consents against them, notifications decide
purposes and channels with them, data-subject requests name purposes from them — all read them here, one
way (the kernel), never by importing another domain."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from functions.core.settings import get_settings


@dataclass(frozen=True)
class Purpose:
    id: str
    legal_basis: str
    requires_consent: bool
    channel_scoped: bool
    current_text_version: str | None
    legal_obligation: bool = False  # RGPD art. 6.1.c: no objection lies against it (art. 21.1)


@dataclass(frozen=True)
class ConsentText:
    purpose: str
    version: str
    language: str
    text: str
    sha256: str


@dataclass(frozen=True)
class Terms:
    purposes: dict[str, Purpose]
    channels: dict[str, dict[str, Any]]
    topics: dict[str, dict[str, Any]]
    texts: dict[tuple[str, str, str], ConsentText]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Terms:
        purposes = {
            pid: Purpose(
                id=pid,
                legal_basis=p["legal_basis"],
                requires_consent=bool(p["requires_consent"]),
                channel_scoped=bool(p["channel_scoped"]),
                current_text_version=p.get("current_text_version"),
                legal_obligation=bool(p.get("legal_obligation")),
            )
            for pid, p in data["purposes"].items()
        }
        texts = {
            (pid, version, lang): ConsentText(pid, version, lang, t["text"], t["sha256"])
            for pid, versions in data.get("texts", {}).items()
            for version, langs in versions.items()
            for lang, t in langs.items()
        }
        return cls(purposes=purposes, channels=data["channels"], topics=data.get("topics", {}), texts=texts)

    def text(self, purpose: str, version: str, language: str) -> ConsentText | None:
        return self.texts.get((purpose, version, language))

    def versions_of(self, purpose: str) -> list[str]:
        return sorted({v for (p, v, _) in self.texts if p == purpose})


@lru_cache(maxsize=1)
def load_terms(path: Path | None = None) -> Terms:
    path = path or get_settings().policies_dir / "consent" / "data.json"
    return Terms.from_data(json.loads(path.read_text(encoding="utf-8")))
