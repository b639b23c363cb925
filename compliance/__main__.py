"""``python -m compliance``: keys, bundle, impact (the make targets policy-keys, policy-bundle, policy-impact)."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from compliance import impact
from compliance.population import Case, city_cases, recorded_cases
from functions.core import bundle as bundles
from functions.core.bundle import BundleError
from functions.core.settings import REPO_ROOT

KEYS_DIR = REPO_ROOT / ".pic-data" / "policy-keys"
BUNDLE = REPO_ROOT / ".pic-data" / "policy-bundle" / "bundle.tar.gz"
IMPACT_JSON = REPO_ROOT / ".pic-data" / "policy-impact.json"


def keys(args: argparse.Namespace) -> int:
    """A development signing key pair; where deployed the private key lives in the city's key store."""
    private, public = args.dir / "private.pem", args.dir / "public.pem"
    if private.exists() and not args.force:
        print(f"{private} exists (kept; --force makes a new pair, and every running platform must get its public key)")
        return 0
    args.dir.mkdir(parents=True, exist_ok=True)
    private_pem, public_pem = bundles.generate_key()
    private.touch(mode=0o600)
    private.write_bytes(private_pem)
    public.write_bytes(public_pem)
    print(f"wrote {private} (secret) and {public}")
    return 0


def bundle(args: argparse.Namespace) -> int:
    """Build and sign the bundle from a policies folder; written atomically, so a poller never reads half."""
    if not args.key.is_file():
        print(f"no signing key at {args.key}: run `make policy-keys` first", file=sys.stderr)
        return 2
    files = bundles.source_files(args.policies)
    revision = args.revision or bundles.content_revision(files)
    archive = bundles.build(files, revision, args.key.read_bytes())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    staging = args.out.with_name(f".{args.out.name}.{os.getpid()}")
    staging.write_bytes(archive)
    staging.replace(args.out)
    print(f"wrote {args.out}: revision {revision}, {len(files)} files, {len(archive)} bytes, signed")
    return 0


def run_impact(args: argparse.Namespace) -> int:
    """Compare the changed policies with the current ones on a population; print the table, write the JSON."""
    base = impact.load(args.base, args.public_key)
    changed = impact.load(args.changed, args.public_key)
    cases: Iterator[Case] = city_cases([base, changed], people=args.people, seed=args.seed)
    if args.inputs:
        cases = itertools.chain(cases, *(recorded_cases(path) for path in args.inputs))
    report = impact.compare(base, changed, cases)
    print(impact.table(report))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nJSON report: {args.json}")
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m compliance", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    k = commands.add_parser("keys", help="a development key pair under .pic-data (gitignored)")
    k.add_argument("--dir", type=Path, default=KEYS_DIR)
    k.add_argument("--force", action="store_true", help="replace an existing pair")
    k.set_defaults(run=keys)
    b = commands.add_parser("bundle", help="build and sign the OPA bundle from policies/")
    b.add_argument("--policies", type=Path, default=REPO_ROOT / "policies")
    b.add_argument("--key", type=Path, default=KEYS_DIR / "private.pem")
    b.add_argument("--revision", help="the manifest's revision (default: a digest of the content)")
    b.add_argument("--out", type=Path, default=BUNDLE)
    b.set_defaults(run=bundle)
    i = commands.add_parser("impact", help="decisions that flip between two policy versions")
    i.add_argument("--base", default="git:HEAD", help="git:<ref>, a signed bundle .tar.gz, or a policies folder")
    i.add_argument("--changed", default=str(REPO_ROOT / "policies"), help="the same kinds as --base")
    i.add_argument("--public-key", type=Path, default=KEYS_DIR / "public.pem", help="for bundle files")
    i.add_argument("--people", type=int, default=300, help="citizens of the generated city")
    i.add_argument("--seed", type=int, default=0)
    i.add_argument("--inputs", type=Path, action="append", help="recorded, pseudonymised inputs (JSON lines)")
    i.add_argument("--json", type=Path, default=IMPACT_JSON)
    i.set_defaults(run=run_impact)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return int(args.run(args))
    except (BundleError, ValueError, OSError) as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
