"""The catalog of every event type: type -> data model, producer, consumers (Knative Service names).

Types follow ``es.madrid.pic.<domain>.<event>.v<N>``; a breaking change is a new ``vN``. The contract
tests check that every Trigger in ``infra/k8s`` filters on a type listed here and that ``schemas/`` is
generated from these models.

Each spec names its data model by dotted path (``model_path``) and imports it on first use
(``EventSpec.model``): a function process pays only for the event models it handles or emits, not for every
domain's (``tests/unit/events/test_catalog.py`` checks that importing the catalog imports no model).

Each spec also names its **senders**: the identities the broker accepts it from (docs/decisions/0011). A
sender is a Kubernetes ServiceAccount of namespace ``pic`` bound to one CloudEvent ``source``: an external
system's account (``legacy-padron``, source ``/legacy/padron``) sends its requests and area facts; a PIC
domain's facts (source ``/pic/<domain>``) come only from that domain's outbox relay (``pic-<domain>-relay``).
``infra/k8s/generate_senders.py`` turns this into Knative ``EventPolicy`` resources, and the local broker
enforces the same files.
"""

from __future__ import annotations

import builtins
import importlib
from dataclasses import dataclass, field
from functools import cached_property

from events.base import EventData

NAMESPACE = "pic"
# The audience Knative gives Broker ``pic`` (``status.address.audience``: <group>/<kind>/<namespace>/<name>,
# lower case): a sender's OIDC token must be issued for it.
BROKER_AUDIENCE = f"eventing.knative.dev/broker/{NAMESPACE}/pic"


@dataclass(frozen=True)
class Sender:
    """An identity the broker accepts events from: a ServiceAccount of namespace ``pic``, bound to the one
    CloudEvent ``source`` it may use (exactly, or a path below it: ``/legacy/oficinas/oac-centro``); ``None``
    binds no source (only the dead-letter replay tool, which re-sends events admitted once already)."""

    account: str
    source: str | None
    description: str

    @property
    def subject(self) -> str:
        """The ``sub`` of the account's tokens (and of the EventPolicy ``from``)."""
        return f"system:serviceaccount:{NAMESPACE}:{self.account}"

    def owns(self, source: str) -> bool:
        """Whether ``source`` is this sender's own: its source or a path below it."""
        if self.source is None:
            return True
        return source == self.source or source.startswith(self.source + "/")


def _legacy(name: str, description: str) -> Sender:
    return Sender(f"legacy-{name}", f"/legacy/{name}", description)


def _domain(name: str) -> Sender:
    return Sender(f"pic-{name}-relay", f"/pic/{name}", f"PIC's {name} domain, through its outbox relay")


# External systems: one ServiceAccount each (docs/decisions/0011; the README says how one gets its token).
PADRON = _legacy("padron", "Padrón municipal de habitantes")
TRIBUTOS = _legacy("tributos", "Agencia Tributaria Madrid (IBI, IVTM)")
SER = _legacy("ser", "Servicio de Estacionamiento Regulado")
MULTAS = _legacy("multas", "Multas de circulación")
DEPORTES = _legacy("deportes", "Centros deportivos municipales")
CULTURA = _legacy("cultura", "Bibliotecas y centros culturales")
SERVICIOS_SOCIALES = _legacy("servicios-sociales", "Servicios Sociales")
CITA_PREVIA = _legacy("cita-previa", "Cita Previa")
LICENCIAS = _legacy("licencias", "Licencias urbanísticas y de actividad")
OFICINAS = _legacy("oficinas", "Oficinas de Atención a la Ciudadanía (back-office)")
CRM = _legacy("crm", "CRM de atención a la ciudadanía")
GESTOR_COLAS = _legacy("gestor-colas", "Gestor de colas de las oficinas")
LINEA_010 = _legacy("linea-madrid-010", "Línea Madrid 010 (teléfono)")
ASISTENTE_VIRTUAL = _legacy("asistente-virtual", "Asistente virtual (chat)")
WHATSAPP = _legacy("whatsapp", "Canal de WhatsApp")
BUZON = _legacy("buzon-atencion", "Buzón de atención por e-mail")
MADRID_MOVIL = _legacy("madrid-movil", "App Madrid Móvil")
MOVILIDAD = _legacy("movilidad", "Movilidad y transportes")
PROTECCION_CIVIL = _legacy("proteccion-civil", "Protección Civil")
MEDIO_AMBIENTE = _legacy("medio-ambiente", "Medio Ambiente")
EMPLEO = _legacy("empleo", "Agencia para el Empleo (desempleo, emprendimiento)")
HOSTELERIA = _legacy("hosteleria", "Registro de establecimientos de hostelería")

AREA_SYSTEMS = (PADRON, TRIBUTOS, SER, MULTAS, DEPORTES, CULTURA, SERVICIOS_SOCIALES, CITA_PREVIA)
INTERACTION_CHANNELS = (GESTOR_COLAS, LINEA_010, ASISTENTE_VIRTUAL, WHATSAPP, BUZON, MADRID_MOVIL, OFICINAS)

# The domains that emit facts, each through its own relay (functions/core/relay.py).
DOMAINS = {
    name: _domain(name)
    for name in (
        "agenda",
        "assistant",
        "audit",
        "booking",
        "campaign",
        "case",
        "citizen",
        "consent",
        "flags",
        "incident",
        "interaction",
        "kb",
        "lake",  # the data platform's exports (ADR 0036): answers data-subject requests
        "notification",
        "payment",
        "position",
        "recommend",
        "rgpd",
        "routing",
        "survey",
        "wallet",
        "zbe",
    )
}

# Re-sends dead letters (local.deadletters, an operator's replay tool): any catalogued type, any source, as the
# events were admitted once already. Its token is an operator's, never a system's.
# The domains that answer data-subject requests (rgpd.domain.answered), each as its own relay.
ANSWERING_DOMAINS = (
    "agenda", "assistant", "audit", "booking", "campaign", "case", "citizen", "consent", "flags", "incident",
    "interaction", "notification", "payment", "position", "recommend", "routing", "survey", "wallet", "zbe",
    "lake",
)  # fmt: skip
# PIC's domains that ask NOT to tell a person something (their own platform templates)
DOMAIN_NOTIFIERS = (DOMAINS["payment"], DOMAINS["case"], DOMAINS["booking"], DOMAINS["zbe"], DOMAINS["incident"])
DEADLETTER_REPLAY = Sender("pic-deadletter-replay", None, "Dead-letter replay (operators)")


@dataclass(frozen=True)
class EventSpec:
    type: str
    model_path: str  # ``events.<module>.<class>``: where the data model is defined
    producer: str
    source: str
    description: str
    consumers: list[str] = field(default_factory=list)
    # Who the broker accepts it from; when not named, the producing domain's relay (a PIC fact).
    senders: tuple[Sender, ...] = ()

    def __post_init__(self) -> None:
        if self.senders:
            return
        domain = self.producer.removeprefix("pic-")
        if domain not in DOMAINS:
            raise ValueError(f"{self.type}: producer {self.producer!r} is not a PIC domain and no sender is named")
        object.__setattr__(self, "senders", (DOMAINS[domain],))

    @cached_property
    def model(self) -> builtins.type[EventData]:
        """The data model, imported the first time it is asked for (then kept on the spec)."""
        return _import_model(self.model_path)


def _import_model(path: str) -> builtins.type[EventData]:
    module_name, _, name = path.rpartition(".")
    model = getattr(importlib.import_module(module_name), name)
    if not (isinstance(model, builtins.type) and issubclass(model, EventData)):
        raise TypeError(f"{path} is not an event data model")
    return model


_SPECS = [
    EventSpec(
        type="es.madrid.pic.consent.change.requested.v1",
        model_path="events.consent.ConsentChangeRequested",
        producer="internal systems (office back-offices, CRM)",
        source="the requesting system's URI, e.g. /legacy/oficinas",
        description="Asks PIC to record a consent change captured outside the channels (e.g. a signed form).",
        consumers=["pic-consent-events"],
        # NOT asks for the withdrawal of a one-click unsubscribe (RFC 8058) through its own relay
        senders=(OFICINAS, CRM, DOMAINS["notification"]),
    ),
    EventSpec(
        type="es.madrid.pic.consent.changed.v1",
        model_path="events.consent.ConsentChanged",
        producer="pic-consent",
        source="/pic/consent",
        description="A citizen's consent for one purpose changed, with before/after and the proof id.",
        # POS shows it; NOT projects it (policy input); CAMP projects it (segments' audience, functions/campaign)
        # GEO projects the location purpose (functions/agenda: work and leisure zones, zones.changed); REC the mode
        consumers=[
            "pic-position-events",
            "pic-notification-events",
            "pic-campaign-events",
            "pic-agenda-events",
            "pic-recommend-events",
        ],
    ),
    EventSpec(
        type="es.madrid.pic.preferences.changed.v1",
        model_path="events.consent.PreferencesChanged",
        producer="pic-consent",
        source="/pic/consent",
        description="A citizen's language, preferred channels or quiet hours changed.",
        consumers=["pic-notification-events", "pic-campaign-events"],  # NOT and CAMP project it
    ),
    EventSpec(
        type="es.madrid.pic.subscription.changed.v1",
        model_path="events.consent.SubscriptionChanged",
        producer="pic-consent",
        source="/pic/consent",
        description="An alert subscription by topic and zone was created or deleted.",
        consumers=["pic-notification-events", "pic-campaign-events"],  # NOT; CAMP (zones of interest)
    ),
    EventSpec(
        type="es.madrid.pic.citizen.record.upserted.v1",
        model_path="events.citizen.CitizenRecordUpserted",
        producer="area systems (Padrón, Tributos, SER, Multas, Deportes, Cultura, Servicios Sociales, Cita Previa)",
        source="the area system's URI, e.g. /legacy/padron",
        description="An area system created or changed its record of a person; PIC links it to a golden record.",
        consumers=["pic-citizen-events"],
        senders=(*AREA_SYSTEMS, LICENCIAS),  # INTG: Licencias' holders, by change data capture (functions/cdc)
    ),
    EventSpec(
        type="es.madrid.pic.citizen.updated.v1",
        model_path="events.citizen.CitizenUpdated",
        producer="pic-citizen",
        source="/pic/citizen",
        description=(
            "A golden citizen record gained or changed a source link, with the match decision and the golden "
            "record's contact points."
        ),
        # POS links the record; INTX attaches the record's interactions; NOT projects the contact points (none
        # of them reads a C360 table)
        # CAMP projects the contact points and the profile (segments' audience)
        consumers=[
            "pic-position-events",
            "pic-interaction-events",
            "pic-notification-events",
            "pic-payment-events",
            "pic-campaign-events",
            "pic-wallet-events",  # WAL: the facts the cards' eligibility reads (birth date, district)
            "pic-booking-events",  # bookings: the Padrón facts its rules read (residents first, age)
            "pic-agenda-events",  # GEO: the home zone (the Padrón's barrio)
            "pic-recommend-events",
        ],
    ),
    # ---- global position (POS), interactions (INTX) and the access log (audit) ----
    EventSpec(
        type="es.madrid.pic.interaction.recorded.v1",
        model_path="events.interaction.InteractionRecorded",
        producer="channels and back-offices (queue manager, agent desktops, 010, chat, WhatsApp, e-mail, app)",
        source="the recording system's URI, e.g. /legacy/gestor-colas",
        description="An interaction with a person (office visit, call, chat, WhatsApp, e-mail, app) to be logged.",
        consumers=["pic-interaction-events"],
        # CCAAS logs an attended contact and an office ticket served or missed (functions/routing), through its relay
        senders=(*INTERACTION_CHANNELS, DOMAINS["routing"]),
    ),
    EventSpec(
        type="es.madrid.pic.interaction.logged.v1",
        model_path="events.interaction.InteractionLogged",
        producer="pic-interaction",
        source="/pic/interaction",
        description="PIC stored an interaction with a person; the global position lists it.",
        consumers=["pic-position-events", "pic-campaign-events"],  # CAMP: the recency of interaction (segments)
    ),
    EventSpec(
        type="es.madrid.pic.position.item.upserted.v1",
        model_path="events.position.PositionItemUpserted",
        producer="area systems (Tributos, Multas, Cita Previa, Licencias, Servicios Sociales, ...)",
        source="the area system's URI, e.g. /legacy/tributos",
        description="A fact an area system holds about a person (tax, fine, case, appointment, permit, card, notice).",
        # POS shows it; CAMP: the relationship it gives (has a tax object, a fine, a card...) is a segment criterion
        consumers=["pic-position-events", "pic-campaign-events"],
        # ZBE: its applications (section permits); bookings: section appointments; Avisos: reports (cases) (issue 18)
        senders=(*AREA_SYSTEMS, LICENCIAS, DOMAINS["zbe"], DOMAINS["booking"], DOMAINS["incident"]),
    ),
    # ---- cases (CASE): functions/case ----
    EventSpec(
        type="es.madrid.pic.case.requested.v1",
        model_path="events.case.CaseRequested",
        producer="channels and back-offices (the assistant's hand-over, 010, offices, WhatsApp, e-mail, CRM)",
        source="the requesting system's URI, e.g. /legacy/asistente-virtual",
        description="A citizen's request to be attended as a case in an area's queue (level from the area's config).",
        consumers=["pic-case-events"],
        # CCAAS: an expert queue's contact nobody could take falls back to a case (functions/routing); the assistant
        # hands a signed-in citizen's conversation over through its own relay (/pic/assistant)
        senders=(*INTERACTION_CHANNELS, CRM, DOMAINS["routing"], DOMAINS["assistant"], DOMAINS["incident"]),
    ),
    EventSpec(
        type="es.madrid.pic.kb.article.updated.v1",
        model_path="events.kb.ArticleUpdated",
        producer="pic-kb",
        source="/pic/kb",
        description="An article's published state changed: the versions in force or scheduled, the archive instant.",
        consumers=["pic-assistant-events"],  # the assistant projects it: it answers from what its audience may see
    ),
    EventSpec(
        type="es.madrid.pic.case.updated.v1",
        model_path="events.case.CaseUpdated",
        producer="pic-case",
        source="/pic/case",
        description="A case was opened or changed: what the citizen may see of it (state, level, links).",
        # the person's cases section of the global position; SURV invites to a CSAT survey when a case closes; CAMP: a
        # relationship with the area (segments)
        consumers=["pic-position-events", "pic-survey-events", "pic-campaign-events", "pic-lake-events"],
    ),
    EventSpec(
        type="es.madrid.pic.case.sla.warning.v1",
        model_path="events.case.CaseSlaWarning",
        producer="pic-case",
        source="/pic/case",
        description="An SLA clock of a case passed its warning share (business time, from the case's history).",
    ),
    EventSpec(
        type="es.madrid.pic.case.sla.breached.v1",
        model_path="events.case.CaseSlaBreached",
        producer="pic-case",
        source="/pic/case",
        description="An SLA clock of a case passed its target (business time, from the case's history).",
    ),
    # ---- fines and taxes (PAY): functions/payment ----
    EventSpec(
        type="es.madrid.pic.fine.issued.v1",
        model_path="events.payment.FineIssued",
        producer="Multas (and Movilidad's agents)",
        source="the issuing system's URI, e.g. /legacy/multas",
        description="A fine notified to a person (traffic, RDL 6/2015; or an administrative sanction, Ley 39/2015).",
        consumers=["pic-payment-events"],
        senders=(MULTAS, MOVILIDAD),
    ),
    EventSpec(
        type="es.madrid.pic.tax.receipt.issued.v1",
        model_path="events.payment.TaxReceiptIssued",
        producer="Agencia Tributaria Madrid (Tributos)",
        source="/legacy/tributos",
        description="A tax receipt issued to a person (IBI, IVTM, ICIO, IAE, IIVTNU, a tasa) and its voluntary period.",
        consumers=["pic-payment-events", "pic-recommend-events"],
        senders=(TRIBUTOS, DOMAINS["booking"]),  # bookings: a paid place's precio público (issue 18)
    ),
    EventSpec(
        type="es.madrid.pic.payment.succeeded.v1",
        model_path="events.payment.PaymentSucceeded",
        producer="pic-payment",
        source="/pic/payment",
        description="A payment of one or more debts was charged by the gateway (a verified Redsys notification).",
        # SURV invites to a survey after a payment (its triggers); CAMP: a conversion of the campaign that reached them
        consumers=["pic-survey-events", "pic-campaign-events", "pic-lake-events"],
    ),
    EventSpec(
        type="es.madrid.pic.payment.failed.v1",
        model_path="events.payment.PaymentFailed",
        producer="pic-payment",
        source="/pic/payment",
        description="A payment was declined, cancelled by the holder or failed at the gateway; its debts are free.",
    ),
    EventSpec(
        type="es.madrid.pic.payment.refund.submitted.v1",
        model_path="events.payment.RefundSubmitted",
        producer="pic-payment",
        source="/pic/payment",
        description="A refund of a successful payment was asked for; PAY sends it to the gateway.",
        consumers=["pic-payment-events"],  # PAY's own worker calls Redsys's REST endpoint
    ),
    EventSpec(
        type="es.madrid.pic.payment.refund.finished.v1",
        model_path="events.payment.RefundFinished",
        producer="pic-payment",
        source="/pic/payment",
        description="The gateway gave the money back (success) or refused the refund (error).",
    ),
    EventSpec(
        type="es.madrid.pic.fine.paid.v1",
        model_path="events.payment.FinePaid",
        producer="pic-payment",
        source="/pic/payment",
        description="A fine was paid through PIC, at the amount due that day and the rule that priced it.",
        consumers=["pic-position-events", "pic-payment-events"],  # POS shows it paid; PAY tells Multas (webhook)
    ),
    EventSpec(
        type="es.madrid.pic.tax.receipt.paid.v1",
        model_path="events.payment.TaxReceiptPaid",
        producer="pic-payment",
        source="/pic/payment",
        description="A tax receipt was paid through PIC.",
        # POS shows it paid; PAY tells Tributos; bookings confirm a held place (receipt BK-<booking id>); REC: how the
        # IBI was paid
        consumers=["pic-position-events", "pic-payment-events", "pic-booking-events", "pic-recommend-events"],
    ),
    EventSpec(
        type="es.madrid.pic.tax.direct-debit.signed.v1",
        model_path="events.payment.DirectDebitSigned",
        producer="pic-payment",
        source="/pic/payment",
        description="A person signed or changed the SEPA direct debit of a tax object's periodic taxes.",
        # PAY tells Tributos, which charges the next receipts (webhook); REC: the IBI is domiciled
        consumers=["pic-payment-events", "pic-recommend-events"],
    ),
    EventSpec(
        type="es.madrid.pic.tax.direct-debit.cancelled.v1",
        model_path="events.payment.DirectDebitCancelled",
        producer="pic-payment",
        source="/pic/payment",
        description="A person cancelled the direct debit of a tax object.",
        consumers=["pic-payment-events", "pic-recommend-events"],  # PAY tells Tributos (webhook)
    ),
    # ---- surveys (SURV): functions/survey (issue 16) ----
    EventSpec(
        type="es.madrid.pic.survey.answered.v1",
        model_path="events.survey.SurveyAnswered",
        producer="pic-survey",
        source="/pic/survey",
        description="A survey was answered (first) or its answer edited before the close; anonymous: no citizen.",
        consumers=["pic-campaign-events"],  # a conversion of the campaign whose link invited the answer
    ),
    # ---- data-subject rights (RGPD): functions/rgpd (contracts.md §3) ----
    EventSpec(
        type="es.madrid.pic.rgpd.request.opened.v1",
        model_path="events.rgpd.RgpdRequestOpened",
        producer="pic-rgpd",
        source="/pic/rgpd",
        description=(
            "A data-subject request (access, portability, rectification, erasure, restriction, objection) was "
            "received; every domain holding personal data consumes it and answers rgpd.domain.answered."
        ),
        consumers=[
            "pic-consent-events",
            # the position, interaction and audit domains' answers (functions/<domain>/rights.py)
            "pic-position-events",
            "pic-interaction-events",
            "pic-audit-events",
            "pic-notification-events",
            "pic-citizen-events",
            "pic-flags-events",  # a citizen's home arrangement (functions/flags/rights.py)
            "pic-payment-events",  # fines and tax receipts (functions/payment/rights.py)
            "pic-case-events",  # cases, their transcripts and ratings (functions/case/rights.py)
            "pic-routing-events",  # contacts and office tickets (functions/routing/rights.py)
            "pic-assistant-events",  # conversations with the virtual assistant (functions/assistant/rights.py)
            "pic-survey-events",  # survey responses and respondents (functions/survey/rights.py)
            "pic-campaign-events",  # the segments' audience row and campaign touches (functions/campaign/rights.py)
            "pic-wallet-events",  # the cards issued to the person (functions/wallet/rights.py)
            "pic-agenda-events",  # zones and saved events (functions/agenda/rights.py)
            "pic-zbe-events",  # ZBE applications and their decisions (functions/zbe/rights.py)
            "pic-booking-events",  # bookings and the rules' facts (functions/booking/rights.py)
            "pic-incident-events",  # the reports made or followed (functions/incident/rights.py)
            "pic-recommend-events",
            "pic-lake-events",  # the data platform's pseudonymised rows (functions/lake/rights.py)
        ],
    ),
    EventSpec(
        type="es.madrid.pic.rgpd.domain.answered.v1",
        model_path="events.rgpd.RgpdDomainAnswered",
        producer="every domain holding personal data (pic-consent-events, ...)",
        source="the answering domain, e.g. /pic/consent",
        description="A domain's answer to a data-subject request: what it exported, erased, kept and why.",
        consumers=["pic-rgpd-events"],
        senders=tuple(DOMAINS[d] for d in ANSWERING_DOMAINS),
    ),
    EventSpec(
        type="es.madrid.pic.rgpd.flags.changed.v1",
        model_path="events.rgpd.RgpdFlagsChanged",
        producer="pic-rgpd",
        source="/pic/rgpd",
        description="A citizen's restriction (RGPD art. 18) and objection (art. 21) flags, as they now stand.",
        consumers=[
            "pic-consent-events",
            # the restriction flag the position's read path passes to policies/position
            "pic-position-events",
            # the restriction/objection flags policies/notifications honours
            "pic-notification-events",
            "pic-campaign-events",  # the segments' audience (a count predicts what NOT will do)
            "pic-recommend-events",
        ],
    ),
    EventSpec(
        type="es.madrid.pic.rgpd.request.extended.v1",
        model_path="events.rgpd.RgpdRequestExtended",
        producer="pic-rgpd",
        source="/pic/rgpd",
        description="A request's deadline was extended by two months (RGPD art. 12.3); the person must be told why.",
    ),
    EventSpec(
        type="es.madrid.pic.rgpd.request.completed.v1",
        model_path="events.rgpd.RgpdRequestCompleted",
        producer="pic-rgpd",
        source="/pic/rgpd",
        description="Every domain answered a data-subject request; for access and portability, the export is ready.",
        # after an erasure, the projections drop what a domain erased after they did (ADR 0012)
        consumers=["pic-position-events", "pic-notification-events"],
    ),
    # ---- C360 merges (issue 5) ----
    EventSpec(
        type="es.madrid.pic.citizen.merged.v1",
        model_path="events.citizen.CitizenMerged",
        producer="pic-citizen",
        source="/pic/citizen",
        description="Two golden citizen records were merged (automatically or by a clerical review); audit and UX.",
    ),
    EventSpec(
        type="es.madrid.pic.citizen.unmerged.v1",
        model_path="events.citizen.CitizenUnmerged",
        producer="pic-citizen",
        source="/pic/citizen",
        description="A source record was split out of a golden record, restoring the golden record it came with.",
        consumers=["pic-notification-events"],  # NOT: the remaining golden record's contact points
    ),
    # ---- notifications and alerts (NOT) ----
    EventSpec(
        type="es.madrid.pic.notification.requested.v1",
        model_path="events.notification.NotificationRequested",
        producer="internal systems (Tributos, Movilidad, Servicios Sociales...) and PIC's domains (PAY)",
        source="the requesting system's URI, e.g. /legacy/tributos",
        description="Asks PIC to notify a citizen (or an explicit address) with a template.",
        consumers=["pic-notification-events"],
        # PAY asks for a payment's receipt notice (template pic-payment-receipt) through its own relay
        # CASE asks for the satisfaction survey of a closed case (template pic-case-csat, purpose surveys)
        # bookings ask for pic-booking-confirmed and pic-booking-promoted, ZBE pic-zbe-decided, Avisos
        # pic-incident-status (issue 18)
        senders=(TRIBUTOS, MULTAS, MOVILIDAD, SERVICIOS_SOCIALES, CITA_PREVIA, *DOMAIN_NOTIFIERS),
    ),
    EventSpec(
        type="es.madrid.pic.notification.accepted.v1",
        model_path="events.notification.NotificationAccepted",
        producer="pic-notification",
        source="/pic/notification",
        description="The policy allowed the notification on a channel; delivery follows (or waits for quiet hours).",
        consumers=[
            "pic-notification-delivery",
            "pic-campaign-events",
            "pic-survey-events",
        ],  # SURV: a campaign's invitations
    ),
    EventSpec(
        type="es.madrid.pic.notification.due.v1",
        model_path="events.notification.NotificationDue",
        producer="pic-notification",
        source="/pic/notification",
        description="Internal: a notification deferred by quiet hours is due for delivery now.",
        consumers=["pic-notification-delivery"],
    ),
    EventSpec(
        type="es.madrid.pic.notification.sending.v1",
        model_path="events.notification.NotificationSending",
        producer="pic-notification",
        source="/pic/notification",
        description="A delivery attempt claimed the notification and is handing it to the provider.",
    ),
    EventSpec(
        type="es.madrid.pic.notification.delivered.v1",
        model_path="events.notification.NotificationDelivered",
        producer="pic-notification",
        source="/pic/notification",
        description="The provider took the message.",
        consumers=["pic-notification-delivery", "pic-campaign-events"],  # signed status callbacks
    ),
    EventSpec(
        type="es.madrid.pic.notification.temporary-failure.v1",
        model_path="events.notification.NotificationTemporaryFailure",
        producer="pic-notification",
        source="/pic/notification",
        description="A delivery attempt failed transiently; it is retried with backoff up to the channel's limit.",
    ),
    EventSpec(
        type="es.madrid.pic.notification.permanent-failure.v1",
        model_path="events.notification.NotificationPermanentFailure",
        producer="pic-notification",
        source="/pic/notification",
        description="The provider refused the message, or the channel's retry limit was reached.",
        consumers=["pic-notification-delivery", "pic-campaign-events"],  # signed status callbacks
    ),
    EventSpec(
        type="es.madrid.pic.notification.not-allowed.v1",
        model_path="events.notification.NotificationNotAllowed",
        producer="pic-notification",
        source="/pic/notification",
        description="The policy refused the notification (or no reachable allowed channel); the reason says why.",
        consumers=["pic-notification-delivery", "pic-campaign-events"],  # signed status callbacks
    ),
    EventSpec(
        type="es.madrid.pic.notification.bulk.chunk.ready.v1",
        model_path="events.notification.BulkChunkReady",
        producer="pic-notification",
        source="/pic/notification",
        description="Internal: a chunk of a bulk job's recipients waits to be decided and enqueued.",
        consumers=["pic-notification-events"],
    ),
    EventSpec(
        type="es.madrid.pic.notification.batch.requested.v1",
        model_path="events.notification.NotificationBatchRequested",
        producer="PIC's campaigns (CAMP) and surveys (SURV) dispatchers, through their own relays",
        source="the dispatcher's relay: /pic/campaign or /pic/survey",
        description="A page of up to 500 citizens for one message; NOT decides each at arrival, once per campaign.",
        consumers=["pic-notification-events"],
        senders=(_domain("campaign"), _domain("survey")),
    ),
    EventSpec(
        type="es.madrid.pic.notification.engaged.v1",
        model_path="events.notification.NotificationEngaged",
        producer="pic-notification",
        source="/pic/notification",
        description="A provider's feedback (opened, clicked, bounced, complained) or a one-click unsubscribe.",
        consumers=["pic-campaign-events"],  # a campaign's impact report
    ),
    # ---- contact routing (CCAAS): functions/routing ----
    EventSpec(
        type="es.madrid.pic.contact.offered.v1",
        model_path="events.contact.ContactOffered",
        producer="pic-routing",
        source="/pic/routing",
        description="A contact was offered to one agent until its offer expires.",
    ),
    EventSpec(
        type="es.madrid.pic.contact.accepted.v1",
        model_path="events.contact.ContactAccepted",
        producer="pic-routing",
        source="/pic/routing",
        description="An agent accepted the contact offered to them; its wait ended.",
    ),
    EventSpec(
        type="es.madrid.pic.contact.rejected.v1",
        model_path="events.contact.ContactRejected",
        producer="pic-routing",
        source="/pic/routing",
        description="An agent declined the contact offered to them; it goes to the next agent.",
    ),
    EventSpec(
        type="es.madrid.pic.contact.timed-out.v1",
        model_path="events.contact.ContactTimedOut",
        producer="pic-routing",
        source="/pic/routing",
        description="An offer expired unanswered: the agent is set away, the contact goes to the next agent.",
    ),
    EventSpec(
        type="es.madrid.pic.contact.abandoned.v1",
        model_path="events.contact.ContactAbandoned",
        producer="pic-routing",
        source="/pic/routing",
        description="The caller left before an agent accepted the contact.",
    ),
    EventSpec(
        type="es.madrid.pic.contact.ended.v1",
        model_path="events.contact.ContactEnded",
        producer="pic-routing",
        source="/pic/routing",
        description="An attended contact ended, with its wait and handling times.",
    ),
    EventSpec(
        type="es.madrid.pic.contact.fell-back.v1",
        model_path="events.contact.ContactFellBack",
        producer="pic-routing",
        source="/pic/routing",
        description="Every routing step of a contact expired: moved to another queue, or a callback or a case.",
    ),
    EventSpec(
        type="es.madrid.pic.office.ticket.issued.v1",
        model_path="events.contact.TicketIssued",
        producer="the offices' queue manager (gestor-colas)",
        source="/legacy/gestor-colas",
        description="An office ticket was taken at the kiosk (turno).",
        consumers=["pic-routing-events"],  # statistics; served and missed tickets become office visits (INTX)
        senders=(GESTOR_COLAS,),
    ),
    EventSpec(
        type="es.madrid.pic.office.ticket.called.v1",
        model_path="events.contact.TicketCalled",
        producer="the offices' queue manager (gestor-colas)",
        source="/legacy/gestor-colas",
        description="An office ticket was called to a desk.",
        consumers=["pic-routing-events"],  # statistics; served and missed tickets become office visits (INTX)
        senders=(GESTOR_COLAS,),
    ),
    EventSpec(
        type="es.madrid.pic.office.ticket.served.v1",
        model_path="events.contact.TicketServed",
        producer="the offices' queue manager (gestor-colas)",
        source="/legacy/gestor-colas",
        description="An office ticket was attended and finished at its desk.",
        # statistics; served and missed tickets become office visits (INTX); SURV invites after an office visit
        consumers=["pic-routing-events", "pic-survey-events", "pic-lake-events"],
        senders=(GESTOR_COLAS,),
    ),
    EventSpec(
        type="es.madrid.pic.office.ticket.no-show.v1",
        model_path="events.contact.TicketNoShow",
        producer="the offices' queue manager (gestor-colas)",
        source="/legacy/gestor-colas",
        description="An office ticket was called and nobody came.",
        consumers=["pic-routing-events"],  # statistics; served and missed tickets become office visits (INTX)
        senders=(GESTOR_COLAS,),
    ),
    EventSpec(
        type="es.madrid.pic.office.ticket.cancelled.v1",
        model_path="events.contact.TicketCancelled",
        producer="the offices' queue manager (gestor-colas)",
        source="/legacy/gestor-colas",
        description="An office ticket was cancelled before being called.",
        consumers=["pic-routing-events"],  # statistics; served and missed tickets become office visits (INTX)
        senders=(GESTOR_COLAS,),
    ),
    EventSpec(
        type="es.madrid.pic.office.ticket.transferred.v1",
        model_path="events.contact.TicketTransferred",
        producer="the offices' queue manager (gestor-colas)",
        source="/legacy/gestor-colas",
        description="An office ticket was moved to another service's queue.",
        consumers=["pic-routing-events"],  # statistics; served and missed tickets become office visits (INTX)
        senders=(GESTOR_COLAS,),
    ),
    # ---- micro-apps switched by flags (FLAG): functions/flags ----
    EventSpec(
        type="es.madrid.pic.flag.changed.v1",
        model_path="events.flags.FlagChanged",
        producer="pic-flags",
        source="/pic/flags",
        description="An administrator switched a micro-app: who, when, the rules before and after, and why.",
    ),
    EventSpec(
        type="es.madrid.pic.apps.arranged.v1",
        model_path="events.flags.AppsArranged",
        producer="pic-flags",
        source="/pic/flags",
        description="A citizen (or an agent on their behalf) pinned and hid micro-apps on their home.",
    ),
    EventSpec(
        type="es.madrid.pic.alert.published.v1",
        model_path="events.notification.AlertPublished",
        producer="internal systems (Protección Civil, Movilidad, Medio Ambiente...)",
        source="the publishing system's URI, e.g. /legacy/proteccion-civil",
        description="An alert for a topic in some zones; fans out to every citizen subscribed to that topic and zone.",
        consumers=["pic-notification-events"],
        senders=(PROTECCION_CIVIL, MOVILIDAD, MEDIO_AMBIENTE),
    ),
    EventSpec(
        type="es.madrid.pic.alert.page.ready.v1",
        model_path="events.notification.AlertPageReady",
        producer="pic-notification",
        source="/pic/notification",
        description="Internal: the next page of an alert's subscribers (one topic and zone) waits to be fanned out.",
        consumers=["pic-notification-events"],
    ),
    # ---- the wallet (WAL, issue 17): functions/wallet ----
    EventSpec(
        type="es.madrid.pic.card.issued.v1",
        model_path="events.wallet.CardIssued",
        producer="pic-wallet",
        source="/pic/wallet",
        description="A card (SD-JWT VC, its copies) was issued to a citizen's wallet; the position lists it.",
        consumers=["pic-position-events", "pic-recommend-events"],
    ),
    EventSpec(
        type="es.madrid.pic.card.revoked.v1",
        model_path="events.wallet.CardRevoked",
        producer="pic-wallet",
        source="/pic/wallet",
        description="Every copy of a card was revoked (status list bits set, lists republished).",
        consumers=["pic-position-events", "pic-recommend-events"],
    ),
    EventSpec(
        type="es.madrid.pic.card.suspended.v1",
        model_path="events.wallet.CardSuspended",
        producer="pic-wallet",
        source="/pic/wallet",
        description="Every copy of a card was suspended (it may be reinstated).",
        consumers=["pic-position-events"],
    ),
    EventSpec(
        type="es.madrid.pic.card.reinstated.v1",
        model_path="events.wallet.CardReinstated",
        producer="pic-wallet",
        source="/pic/wallet",
        description="A suspended card is valid again.",
        consumers=["pic-position-events"],
    ),
    EventSpec(
        type="es.madrid.pic.card.granted.v1",
        model_path="events.wallet.CardGranted",
        producer="area systems (Empleo, Hostelería, Movilidad) and pic-wallet's grant route",
        source="the granting system's URI, e.g. /legacy/empleo",
        description="A person may hold a card of a type the Padrón cannot tell (entrepreneur, hospitality, vehicle).",
        consumers=["pic-wallet-events"],
        senders=(EMPLEO, HOSTELERIA, MOVILIDAD, DOMAINS["wallet"], DOMAINS["zbe"]),  # ZBE: a granted authorisation
    ),
    # ---- low-emission zone authorisations (ZBE, issue 18): functions/zbe ----
    EventSpec(
        type="es.madrid.pic.vehicle.registered.v1",
        model_path="events.zbe.VehicleRegistered",
        producer="Movilidad's vehicle register",
        source="/legacy/movilidad",
        description="A vehicle's plate, DGT environmental label, holder and address district, as Movilidad holds them.",
        consumers=["pic-zbe-events", "pic-recommend-events"],  # REC: the resident parking card's vehicle
        senders=(MOVILIDAD,),
    ),
    EventSpec(
        type="es.madrid.pic.zbe.authorisation.decided.v1",
        model_path="events.zbe.ZbeAuthorisationDecided",
        producer="pic-zbe",
        source="/pic/zbe",
        description="A low-emission zone access authorisation was granted or refused (by the rules or an agent).",
    ),
    # ---- bookings (issue 18): functions/booking ----
    EventSpec(
        type="es.madrid.pic.booking.confirmed.v1",
        model_path="events.booking.BookingConfirmed",
        producer="pic-booking",
        source="/pic/booking",
        description="A place in a sports facility, class or cultural activity is the person's (free, paid, promoted).",
        # REC: events in the person's zones of the categories they book; the data platform (functions/lake)
        consumers=["pic-recommend-events", "pic-lake-events"],
    ),
    EventSpec(
        type="es.madrid.pic.booking.cancelled.v1",
        model_path="events.booking.BookingCancelled",
        producer="pic-booking",
        source="/pic/booking",
        description="A booking ended before its slot: cancelled by the person or an agent, or its payment hold expired",
        consumers=["pic-lake-events"],  # the data platform (functions/lake)
    ),
    EventSpec(
        type="es.madrid.pic.booking.no-show.v1",
        model_path="events.booking.BookingNoShow",
        producer="pic-booking",
        source="/pic/booking",
        description="The centre recorded that the person did not come to a confirmed place.",
    ),
    # ---- events near me (GEO): functions/agenda (issue 18) ----
    EventSpec(
        type="es.madrid.pic.agenda.event.published.v1",
        model_path="events.agenda.AgendaEventPublished",
        producer="pic-agenda",
        source="/pic/agenda",
        description="A council event of the open-data agenda was loaded, changed or withdrawn (REC matches it).",
        consumers=["pic-recommend-events"],
    ),
    EventSpec(
        type="es.madrid.pic.zones.changed.v1",
        model_path="events.agenda.ZonesChanged",
        producer="pic-agenda",
        source="/pic/agenda",
        description="The zones a citizen shares for location (home, work, leisure) changed; empty: none shared.",
        consumers=["pic-recommend-events"],
    ),
    # ---- incidents on the public way (Avisos Madrid, Open311 GeoReport v2; issue 18): functions/incident ----
    EventSpec(
        type="es.madrid.pic.incident.reported.v1",
        model_path="events.incident.IncidentReported",
        producer="pic-incident",
        source="/pic/incident",
        description="A new report of an incident on the public way (in the city, a known service), routed to its area.",
        consumers=["pic-lake-events"],
    ),
    EventSpec(
        type="es.madrid.pic.incident.updated.v1",
        model_path="events.incident.IncidentUpdated",
        producer="pic-incident",
        source="/pic/incident",
        description="A report's stage, reiterations or estimated resolution date changed (Open311 status from it).",
        consumers=[],
    ),
]

CATALOG: dict[str, EventSpec] = {spec.type: spec for spec in _SPECS}
# Every sender identity, each once, in a stable order: the catalogued senders, then the replay tool.
SENDERS: tuple[Sender, ...] = (
    *sorted({sender for spec in _SPECS for sender in spec.senders}, key=lambda s: s.account),
    DEADLETTER_REPLAY,
)
_BY_MODEL_PATH: dict[str, EventSpec] = {spec.model_path: spec for spec in _SPECS}


def spec_of(model: builtins.type[EventData]) -> EventSpec:
    """The catalog entry of an event data model (one model, one type), found without importing any other
    model: by the model's own dotted path."""
    spec = _BY_MODEL_PATH[f"{model.__module__}.{model.__qualname__}"]
    if spec.model is not model:  # a class of the same name that is not the catalog's model
        raise KeyError(model)
    return spec


def types_sent_by(sender: Sender) -> list[str]:
    """The catalogued types ``sender`` may send, sorted (the replay tool: every type)."""
    if sender == DEADLETTER_REPLAY:
        return sorted(CATALOG)
    return sorted(spec.type for spec in _SPECS if sender in spec.senders)


def sender_owning(source: str) -> Sender | None:
    """The catalogued sender whose source ``source`` is (or lies below), if any: what a loader sends as."""
    owners = [s for s in SENDERS if s != DEADLETTER_REPLAY and s.owns(source)]
    return max(owners, key=lambda s: len(s.source or "")) if owners else None
