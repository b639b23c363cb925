"""The README as a newcomer follows it: each walk-through's shell block, run with bash against a platform
started as ``make run`` starts it, from a directory outside the repository, twice in a row (issue 12 §7).

A run must end with exit code 0 (``bash -e``: a wait that gives up fails it), show what each step promises,
write nothing where it runs (its files go under the platform's data directory), and the second run must do
the same as the first (a new citizen, a fresh person: nothing left over from the first makes it loop or 409).
Also here: the console's hint answers 200, and the local tools find the platform from ``platform.json``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.__main__ import hint
from local.harness import ROOT, Platform, start_platform
from local.running import PLATFORM_FILE

pytestmark = pytest.mark.functional

README_BASE = "http://127.0.0.1:8080"
# What each walk-through must show, by the title of its README section.
SHOWS = {
    "An internal system as an API consumer: a walk-through with curl": (
        "token Bearer scope api:verifier.types for 3600 s",  # client credentials, HTTP Basic
        "wrong secret 401 invalid_client",  # RFC 6749 §5.2
        "asking for api:zbe.plates 400 invalid_scope",
        'card types 200 RateLimit: "quota";r=2;t=',  # a fresh window: 2 left of 3
        'plate list 403 /problems/forbidden: Client "quiosco-pruebas" may not do "zbe.plates"',  # its scope
        "third call 200",
        "fourth call 429 /problems/quota-exceeded | Retry-After header: True | RateLimit r=0: True",
        "after waiting",
        ": 200",
        "quiosco-pruebas | Plataforma PIC | api:verifier.types | 3 per 5 s",
        "usage today: admitted True | 403 True | 429 True",
    ),
    "Legacy files into the platform: a walk-through with curl": (
        "padron: done | 3 records: 2 loaded, 0 unchanged, 1 refused",  # the extract from the inbox
        "line 4 | fecha_nacimiento: '19851332' is not a date AAAAMMDD | 1280790",  # a bad line: reason and raw text
        "tributos: done | 3 records: 2 loaded, 0 unchanged, 1 refused",  # the receipts posted to the API
        "importe: '12,3,4' is not an amount in euros",
        ".txt.dead-letters.jsonl",  # beside the file in done/
        "one golden record for both",  # C360: the Padrón's record and Tributos' are one person
        "2 debts: IBI 45678 IVTM 9875",  # PAY: her receipts
        "padron: refused (not iso-8859-15: UTF-8 multi-byte text",  # the UTF-8 extract, refused whole
        "again: 202",
        "again: padron: done | 3 records: 0 loaded, 2 unchanged, 1 refused",  # the same file: nothing sent
    ),
    "The day's export to the data platform: a walk-through with curl": (
        "visit citizen: 202\nvisit record: 202\nvisit social: 202",
        "day=",  # the day's partition
        "2 rows of this office",  # Servicios Sociales' visit left out
        "Certificado | padron | person (none)",  # known only by a record: its DNI dropped
        "Empadronamiento | atencion-ciudadania | person ",
        "the citizen id in the export: False | the DNI in the export: False | the agent in the export: False",
        "after a redelivery: 2 rows",
        "office_visits | pic-routing",
        "special categories excluded: True",
        "a citizen flushing 403",
    ),
    "Suggestions for a citizen who asked for them: a walk-through with curl": (
        "allowed True 2 suggestions",  # Julián, mode b: the senior card and the SER card
        "ser-resident-card.",  # a suggestion per car, its reason in words
        "used: vehicle, resident_card_held",  # the data it used
        '"feedback": "dont-show-again"',
        "allowed True 1 suggestions",  # the senior card's rule hidden for him
        "allowed False 0 suggestions",  # the consent withdrawn: mode a
        "why none: You have not consented to personalisation (mode a)",
        "an agent reading them 403",
    ),
    "The virtual assistant: a walk-through with curl": (
        "answer | Recogida gratuita de muebles y enseres /v1/kb/public/articles/recogida-muebles | "
        "Hablar con una persona",
        "anonymous: handover sign in first True",
        "handover asked-for-person requested True",
        "1 case:",  # the button pressed again opened no second case
        "atencion-ciudadania level 1",
        "citizen: quiero hablar con una persona",  # the transcript, read by the agent
        "unsigned 403",
        "whatsapp answer",
        "1 reply to the number: interactive | *Recogida gratuita de muebles y enseres*",
    ),
    "A low-emission zone authorisation: a walk-through with curl": (
        "202\n202",  # Movilidad's two vehicles accepted by the broker
        "zbe-invalid-plate 422",  # a plate in no Spanish format
        "granted automatic until",  # the resident's own car in Centro: the rules alone
        "zbe True",  # the wallet offers the zbe card (card.granted from /pic/zbe)
        "permit granted",  # the global position's permits section
        "Luis: pending-review",
        "approved granted agent",
        "plate,zone,category,valid_from,valid_until",  # the cameras' CSV header
        "a citizen reading the plate list 403",
    ),
    "Booking a sports facility: a walk-through with curl": (
        "piscina-barcelo | Centro Deportivo Municipal Barceló 01 | 450 cents",  # the catalogue, as data
        "held Centro Deportivo Municipal Barceló",  # the place held for payment
        "pay 450 cents as receipt-BK-",  # a precio público receipt for Pay
        "again: 409 /problems/already-booked",
        "precio-publico",  # Pay prices it
        "<h1>Pago con tarjeta o Bizum",  # the local Redsys's payment page
        "303 back to http://127.0.0.1:",  # the approval: the browser back to URLOK, the notification stored
        "booking confirmed Indoor pool: lane swimming",  # Pay's tax.receipt.paid confirmed it
        "/problems/slot-not-found",
        "/problems/booking-not-allowed | Aged between 6 and 12",  # the rule says why
    ),
    "Reporting an incident (Avisos, Open311): a walk-through with curl": (
        "alumbrado-farola-apagada | Farola apagada o averiada | alumbrado realtime",  # the catalogue (Open311)
        "<service_definition><service_code>alumbrado-farola-apagada</service_code><attributes><attribute>",
        "a PDF as a photo 422",  # checked by its content
        "suggested AV-",  # Berta is offered Ana's open report before sending hers
        '[{"code": 403',  # Open311's error list: no api_key, no token
        "/problems/incident-outside-city",  # Barcelona, on PIC's own API
        "<status>closed</status> <status_notes>Lámpara cambiada</status_notes>",
        "stages received > in-progress > resolved | reiterations 1 | photos 1",
        "Berta follows it: resolved",  # she said "me too": she follows it
        "in Ana's position: cases AV-",
    ),
    "The citizen wallet: a walk-through with curl": (
        "madrid-mayor True",  # eligible, and why (the reasons in words)
        "openid-credential-offer://",
        '"accepted": 2',  # two copies in her wallet
        "the same offer again 422",  # the pre-authorized code, used once, refused
        'verdict verified disclosed {"age_equal_or_over": {"65": true}} checks',  # "over 65" only, not the birth date
        "revoked",
        "verdict refused revoked",  # the next verification reads the republished status list
    ),
    "A walk-through with curl": (
        '"mode": "b"',
        "campaigns {'granted': False",
        "/problems/forbidden",
        "-bad 400",  # the invalid event, dead-lettered with its reason
        '"status": "completed"',
        "export.json",
    ),
    "Citizen 360, global position and data-subject rights: a walk-through": (
        '"restored_citizen_id"',
        "taxes: full",
        "interactions: full",
        "export.json",
        "completed",
    ),
    "Notifications and alerts: a walk-through with curl": (
        '"status": "delivered"',
        '"status": "not-allowed"',
        '"state": "done"',
        "calle Mayor",
        "204",
    ),
    "Fines and taxes: what is due today, a walk-through with curl": (
        "202\n202\n202\n202\n202\n202",  # Lola's Padrón record, the fine, its redelivery, three receipts: accepted
        "20000 -> 10000 until",  # the fine halved within its window
        "then 20000",
        "9875 -> 9875 until",  # the receipt in its voluntary period
        "then 10369",  # + 5 % after it (LGT art. 28.2)
        "Access-Purpose",  # the agent without a purpose, refused saying why
        '"view": "summary"',  # with one, the summary level 1 may see
        "created 10000 to http://127.0.0.1:",  # the Redsys form, for today's amount, to the local Redsys
        "by card",
        "409 /problems/payment-in-progress",  # the second payment of the same fine
        "<h1>Pago con tarjeta o Bizum",  # the local Redsys's payment page
        "303 back to http://127.0.0.1:",  # to URLOK, after the notification was stored
        "payment success 10000",
        "fine paid",
        '"merchant_status": 200',  # a retried notification, answered and changing nothing
        "1 e-mail: Hemos recibido su pago de 100,00 EUR",  # the receipt notice, once
        "%PDF- receipt PIC-",  # the receipt's PDF and its code
        "verified True 10000 card",
        "refund submitted 1000 left 9000",
        "refund success 0900 by agent:ag-hac-3 | available 9000",
        "%PDF- letter ",  # the IVTM receipt's payment letter, its referencia and identificación
        "bank file {'paid': 1}",
        "bank file {'already-recorded': 1}",  # the same file again pays nothing twice
        "receipt paid",
        "books charge,card,10000",  # the day's reconciliation: the card charge
        "books refund,card,-1000",  # and its refund
        "PIC-PAY",  # the posting file's header
        "Bizum",  # the IBI receipt at the local Redsys's page, by Bizum
        "IBI payment success 45678 bizum",
        "422 /problems/iban-invalid",  # a mistyped IBAN
        "direct debit active ES91 **** **** **** **** 1332 fraccionado-bonificado",
        "folder IBI 2026 paid 45678 pending 0",
        "object 9872023VH5797S0001WX active | SEP bonus (1485, True)",  # 3.25 % of 456.78 EUR, applied
        "verified es.madrid.pic.tax.direct-debit.signed.v1",  # Tributos told, signed
        "direct debit cancelled",
        "phone payment success 9240 by agent:ag-010-7 for LLAMADA-010-2026-78",  # the agent's payment by phone
    ),
    "Cases on four levels: a walk-through with curl": (
        "online ['hacienda-l1'] 0",
        "202\n202\n",  # the hand-over, delivered twice
        "hacienda-l1 open True",  # one case, pushed to Ana
        "transcript: quiero hablar con una persona",
        "resolution paused",  # waiting on Marta
        "next-response running | resolution running",  # she wrote: the clocks run again
        "403 /problems/escalation-refused",
        "2 summary",  # escalated to Hacienda's level 2: Ana sees its summary
        "took the case: True",
        "CSAT asked: pic-case-csat",
        "409 /problems/already-rated",
        "closed",  # in the global position
        "first-response breached at ",
        "422 /problems/invalid-case-config",
        "plot PNG True",  # the SLA report's plot
        "queue,measure,met,breached,total,percent_met",  # its CSV
    ),
    "A call through the IVR to the right queue: a walk-through with curl": (
        "flow linea-010-",  # the flow put, version 1
        "422 /problems/invalid-ivr-flow",  # an invalid next version, refused whole
        "no node 'gone'",  # each error named
        "Bienvenido a Línea Madrid",  # what the caller hears first
        "queued ivr-demo-",  # key 1: the call lands in the IBI queue
        "online {'call': 1}",  # Ana comes online and is offered it at once (her call place taken)
        "offered ivr-demo-",
        "active ag-ana-",
        "ended resolved",
        "interaction logged: call ivr-demo-",  # with its queue, wait and handling times
        "Luis sees: call ivr-demo-",
        "offered 1 answered 1 abandoned 0",
        "queue,date,offered,answered",  # the CSV
    ),
    "Campaigns and their impact: a walk-through with curl": (
        "'targeted': ",  # the segment's count by channel
        "/problems/schedule-in-past",
        "schedule 200\npause 200\nresume 200",
        "finished",
        '"state": "finished"',  # the report
        "True",  # the plot
        "impact {'targeted': ",
        "1 e-mail: Vacuna de la gripe en Arganzuela | unsubscribe link: True",  # through NOT, with its link
    ),
    "A survey after a case: a walk-through with curl": (
        "/problems/survey-invalid",  # each error named
        "202",  # the case closed, accepted by the broker
        "/app/surveys/csat-",  # the personal link
        "201",  # the answer from the link
        "/problems/response-exists",  # a second new answer
        "/problems/answer-invalid",  # outside the scale
        "plot True",
    ),
    "Events near me: a walk-through with curl": (
        "ingest first records 2 loaded",  # the record loaded (or unchanged on the second run) ...
        "refused ['no title']",  # ... and the bad one refused with its reason
        "ingest again records 2 loaded",
        "replayed True",  # the same file again changes nothing
        "zones [('home', 'Sol', '016')]",  # home from the Padrón
        "without consent: /problems/location-consent-required",
        "zones ['home', 'work']",
        "near home",
        "near work",
        "saved 200",
        "BEGIN:VEVENT",
        "events in her agenda: 1",
        "outside Madrid 422",
    ),
    "Contracts that cannot break silently: a walk-through with curl": (
        "API de canales",  # the API's page, in Spanish by default
        "Who may send it to the broker",  # an event type's page in English: its senders
        "openapi.json 200 application/json",
        "asyncapi: 3.0.0",
        "release v1 2026-12-07 commit 0be580d",  # the baseline kept in the repository
        "is compatible with release v1",  # what the platform publishes keeps it
        'data.actor.kind: ENUM_NARROWED: "system" admitted by the release, no longer',  # each break named
        "data.reason: REQUIRED_PROPERTY_ADDED",
        "GET /v1/citizens/{citizen_id}/consents: response 200 (application/json).citizen_id: PROPERTY_REMOVED",
        "refused: exit 1",
    ),
    "Change data capture from an area database: a walk-through with curl": (
        "capture running slot pic_licencias",  # make run's PostgreSQL and the capture (ADR 0033)
        "permit en-tramite Licencia de obra menor: Reforma de baño",  # the row inserted with psql, in her position
        "permit concedida",  # the update followed
        "LT-000003 pic-citizen-events document.type",  # the sample company's record, dead-lettered with the reason
    ),
}
OUTPUTS = {"A walk-through with curl": "export.zip", "Citizen 360": "person-export.zip"}
# Walk-throughs that go on in a browser: run, block and clicks, by tests/browser/test_readme_walkthrough.py.
IN_THE_BROWSER = {"The citizen app and the agent desk: a walk-through in the browser"}


def walkthroughs() -> dict[str, str]:
    """Each README section's first bash block that talks to the platform, by section title."""
    sections = re.split(r"^## ", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.M)
    found = {}
    for section in sections:
        title = section.split("\n", 1)[0].strip()
        blocks = re.findall(r"^```bash\n(.*?)^```", section, flags=re.S | re.M)
        script = next((b for b in blocks if b.startswith(f"B={README_BASE}")), None)
        if script is not None:
            found[title] = script
    return found


def test_every_walk_through_is_checked_here() -> None:
    # GIVEN the README's walk-throughs THEN each has what it must show listed above (a new one is run too)
    assert set(walkthroughs()) == set(SHOWS) | IN_THE_BROWSER


@pytest.fixture(scope="module")
def walk_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A platform of its own: the walk-throughs write templates and data the other tests do not expect."""
    data_dir = tmp_path_factory.mktemp("readme") / "data"
    data_dir.mkdir()
    running = start_platform(data_dir, cdc=True)  # INTG: Licencias' PostgreSQL for the CDC walk-through
    yield running
    running.stop()


def run_bash(script: str, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """A newcomer's shell: no virtual environment, the system's python3 and curl."""
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    env = {"PATH": path, "HOME": os.environ.get("HOME", str(cwd)), "LANG": "C.UTF-8"}
    return subprocess.run(
        ["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


# The walk-throughs run in two modules, each with a platform of its own, so that two workers share them (one module
# took a third of CI's functional phase on one worker); this half runs in test_readme_walkthroughs_more.py.
MORE = {
    "Fines and taxes: what is due today, a walk-through with curl",
    "Campaigns and their impact: a walk-through with curl",
    "Citizen 360, global position and data-subject rights: a walk-through",
    "Booking a sports facility: a walk-through with curl",
    "A low-emission zone authorisation: a walk-through with curl",
    "The citizen wallet: a walk-through with curl",
    "Suggestions for a citizen who asked for them: a walk-through with curl",
    "Events near me: a walk-through with curl",
    "Legacy files into the platform: a walk-through with curl",
    "An internal system as an API consumer: a walk-through with curl",
}


def check_walk_through(platform: Platform, tmp_path: Path, title: str) -> None:
    """The walk-through's block, pointed at ``platform``, pasted twice by a newcomer into a shell in ``tmp_path``."""
    # GIVEN the walk-through's block, pointed at this platform, and an empty directory outside the repository
    script = walkthroughs()[title].replace(README_BASE, platform.base)
    for run in (1, 2):
        # WHEN a newcomer pastes it into a shell there
        result = run_bash(script, tmp_path)
        said = f"run {run} of {title!r}:\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
        # THEN it ends well, without giving up on a wait, and shows what each step promises
        assert result.returncode == 0, said
        assert "gave up" not in result.stderr and "BadZipFile" not in result.stderr, said
        for shown in SHOWS[title]:
            assert shown in result.stdout, f"{shown!r} missing; {said}"
    # AND it wrote nothing where it ran; its export is under the platform's data directory
    assert list(tmp_path.iterdir()) == []
    output = next((name for prefix, name in OUTPUTS.items() if title.startswith(prefix)), None)
    if output:
        assert (platform.data_dir / "walk-through" / output).stat().st_size > 0


@pytest.mark.parametrize("title", sorted(set(SHOWS) - MORE))
def test_a_walk_through_runs_twice_from_anywhere(walk_platform: Platform, tmp_path: Path, title: str) -> None:
    check_walk_through(walk_platform, tmp_path, title)


def test_the_hint_make_run_ends_with_answers_200(walk_platform: Platform, tmp_path: Path) -> None:
    # GIVEN the two commands the console suggests
    token, call = hint(walk_platform.base)
    # WHEN they run, the second asked for its status only THEN it answers 200
    call = call.replace("curl -s ", "curl -s -o /dev/null -w '%{http_code}' ", 1)
    result = run_bash(f"{token}\n{call}", tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "200", result.stdout + result.stderr


def test_the_tools_find_the_platform_from_its_record(walk_platform: Platform) -> None:
    # GIVEN the platform's record in its data directory
    assert (walk_platform.data_dir / PLATFORM_FILE).is_file()
    # WHEN a tool is pointed at the data directory only (no URL, no port) THEN it reaches the platform
    for module, args in (("local.deadletters", ["list"]), ("local.seed_status", [])):
        result = subprocess.run(
            [sys.executable, "-m", module, "--data-dir", str(walk_platform.data_dir), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert "broker:" in result.stdout
