"""Virtual assistant (BOT), pure logic: what to do with each message a citizen writes.

One of three replies, always with the option of a person: an **answer** from a knowledge-base article (when the
retrieval is confident enough), a **procedure** the platform does itself (what do I owe, how is my case going: only
for an authenticated citizen), or a **hand-over** to a person, because the citizen asked for one (in any wording,
typos included), because the answer would be a guess (low confidence), or because only a person can do it (a
refund, an error in a charge, an emergency). A hand-over outside the office hours says when the next opening is,
in Madrid time, and offers a callback.

Nothing here reads a store or loads a model: the retrieval comes in as a ``Retriever`` (``retrieval.py`` is the real
one, BM25 with embeddings) and the office hours as a ``BusinessCalendar``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from functions.core.calendar import BusinessCalendar
from functions.core.clock import MADRID
from functions.core.errors import ConflictError, ForbiddenError, NotFoundError

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork

Language = Literal["es", "en"]
HandoverReason = Literal["asked-for-person", "low-confidence", "needs-procedure"]
Procedure = Literal["debts", "cases"]
TALK_TO_PERSON = "talk-to-person"
CALLBACK = "callback"
THRESHOLD = 0.35  # tuned on the dev set only (bench/data/assistant_dev.json), never on the held-out set


@dataclass(frozen=True)
class Candidate:
    """An article the retrieval proposes, with its confidence in [0, 1]."""

    article_id: str
    version: int
    language: Language
    confidence: float


class Retriever(Protocol):
    def rank(self, text: str, language: Language, k: int = 3) -> Sequence[Candidate]:
        """The best ``k`` articles for ``text``, best first (empty when nothing matches)."""
        ...


@dataclass(frozen=True)
class Answer:
    article_id: str
    version: int
    language: Language
    confidence: float
    alternatives: tuple[str, ...] = ()  # the next articles, offered as "did you mean"
    options: tuple[str, ...] = (TALK_TO_PERSON,)
    kind: Literal["answer"] = "answer"


@dataclass(frozen=True)
class ProcedureReply:
    procedure: Procedure
    language: Language
    requires_authentication: bool  # the citizen must sign in first: it touches personal data
    options: tuple[str, ...] = (TALK_TO_PERSON,)
    kind: Literal["procedure"] = "procedure"


@dataclass(frozen=True)
class Handover:
    reason: HandoverReason
    language: Language
    open_now: bool
    next_opening: datetime | None  # Europe/Madrid; None while open
    confidence: float | None = None
    options: tuple[str, ...] = field(default=(TALK_TO_PERSON,))
    kind: Literal["handover"] = "handover"


Reply = Answer | ProcedureReply | Handover


# ---- words as citizens type them --------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case, no accents, letters repeated for emphasis squeezed ("holaaaa" -> "hola")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"([a-z])\1{2,}", r"\1", plain)


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9@]+", fold(text))


_SPANISH_MARKS = re.compile(r"[ñáéíóúü¿¡]")
_SPANISH = frozenset(
    [
        "el",
        "la",
        "los",
        "las",
        "de",
        "del",
        "que",
        "y",
        "en",
        "un",
        "una",
        "por",
        "para",
        "con",
        "no",
        "es",
        "mi",
        "me",
        "se",
        "lo",
        "le",
        "como",
        "donde",
        "cuando",
        "quiero",
        "puedo",
        "tengo",
        "hay",
        "q",
        "xq",
        "pq",
        "esta",
        "estoy",
        "hola",
        "buenas",
        "gracias",
        "necesito",
        "hacer",
        "pagar",
        "multa",
        "al",
        "su",
        "sus",
        "muy",
        "ya",
        "pero",
        "si",
        "tu",
        "te",
        "ayuntamiento",
        "cual",
        "cuanto",
        "quien",
        "porque",
        "tambien",
        "algo",
        "sobre",
        "mis",
        "desde",
        "hasta",
    ]
)
_ENGLISH = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "to",
        "and",
        "in",
        "is",
        "are",
        "i",
        "my",
        "me",
        "you",
        "your",
        "how",
        "what",
        "where",
        "when",
        "can",
        "do",
        "does",
        "for",
        "with",
        "on",
        "it",
        "please",
        "want",
        "need",
        "have",
        "has",
        "get",
        "pay",
        "is",
        "there",
        "this",
        "that",
        "which",
        "who",
        "hi",
        "hello",
        "thanks",
        "could",
        "would",
        "should",
        "from",
        "about",
        "at",
    ]
)


def detect_language(text: str, default: Language = "es") -> Language:
    """Spanish or English, from function words and Spanish letters; Spanish (Madrid's) when it cannot tell."""
    words = tokens(text)
    spanish = sum(word in _SPANISH for word in words) + 2 * len(_SPANISH_MARKS.findall(text.lower()))
    english = sum(word in _ENGLISH for word in words)
    if english > spanish:
        return "en"
    if spanish > english:
        return "es"
    return default


# ---- "I want a person" --------------------------------------------------------------------------------------------

_HUMAN_NOUNS = (
    "persona", "humano", "humana", "agente", "operador", "operadora", "teleoperador", "teleoperadora", "funcionario",
    "funcionaria", "trabajador", "asesor", "asesora", "gestor", "gestora", "empleado", "empleada",
    "person", "human", "agent", "operator", "representative", "someone", "somebody", "staff", "advisor", "adviser",
)  # fmt: skip
_WEAK_NOUNS = frozenset({"alguien", "rep", "people", "gente"})  # human only right after a verb of contact
_NOT_A_HUMAN_TO_TALK_TO = frozenset(
    [
        "juridica",
        "juridicas",
        "fisica",
        "fisicas",
        "mayor",
        "mayores",
        "dependiente",
        "dependientes",
        "discapacidad",
        "discapacitada",
        "fallecida",
        "fallecido",
        "autorizada",
        "autorizado",
        "interesada",
        "interesado",
        "empadronada",
        "empadronadas",
        "inscrita",
        "inscritas",
        "movilidad",
        "policia",
        "tributario",
        "tributaria",
        "with",
        "disability",
        "disabled",
        "legal",
        "natural",
        "deceased",
        "authorised",
        "authorized",
        "responsible",
        "social",
        "sociales",
    ]
)
_CONTACT_VERBS = frozenset(
    [
        "hablar",
        "hablr",
        "habla",
        "hablo",
        "hablarle",
        "hablando",
        "comunicar",
        "comunicarme",
        "contactar",
        "contacto",
        "pasar",
        "pasame",
        "pasas",
        "pasenme",
        "poner",
        "ponme",
        "ponerme",
        "ponga",
        "pongame",
        "poneme",
        "atender",
        "atienda",
        "atiendan",
        "atenderme",
        "llamar",
        "llamame",
        "llameme",
        "derivar",
        "derivame",
        "transferir",
        "transfiere",
        "transfiereme",
        "conectar",
        "conectame",
        "talk",
        "speak",
        "chat",
        "connect",
        "transfer",
        "put",
        "reach",
        "call",
    ]
)
_WANT_VERBS = frozenset(
    ["quiero", "kiero", "quisiera", "necesito", "prefiero", "want", "need", "prefer", "get"]
)  # right before it
_STRONG_PHRASES = (
    re.compile(r"\b(persona|humano|agente|operador[a]?) (de verdad|real|fisica que me atienda)\b"),
    re.compile(r"\b(no (quiero|kiero) (hablar con )?(una |un )?(maquina|robot|bot|ordenador|contestador))\b"),
    re.compile(r"\b(eres|es) (un |una )?(robot|bot|maquina)\b"),
    re.compile(r"\b(real|actual|live) (person|human|agent)\b"),
    re.compile(r"\b(not|don t|dont) (want )?(to )?(talk|speak|chat) (to|with) (a )?(bot|robot|machine)\b"),
    re.compile(r"\batencion (personal|personalizada|humana)\b"),
    re.compile(r"\bcustomer service\b"),
)


def _fuzzy(word: str, target: str) -> bool:
    """Equal, or one slip apart for words of five letters or more (a typo, a swapped pair)."""
    if word == target:
        return True
    if len(target) < 5 or abs(len(word) - len(target)) > 1:
        return False
    return _within_one(word, target)


def _within_one(a: str, b: str) -> bool:
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _human_noun(word: str) -> bool:
    return any(_fuzzy(word, noun) for noun in _HUMAN_NOUNS)


def asks_for_person(text: str) -> bool:
    """Does the citizen ask to be served by a person (in Spanish or English, colloquial or misspelt)? "Persona
    jurídica", "personas mayores" or "agente de movilidad" name someone, they do not ask for someone."""
    folded = fold(text)
    flat = " ".join(tokens(text))
    if any(pattern.search(flat) for pattern in _STRONG_PHRASES):
        return True
    words = tokens(folded)
    content = [w for w in words if w not in _FILLER]
    for i, word in enumerate(words):
        weak = word in _WEAK_NOUNS
        if not (weak or _human_noun(word)):
            continue
        following = words[i + 1] if i + 1 < len(words) else ""
        preceding = words[i - 1] if i else ""
        if following in _NOT_A_HUMAN_TO_TALK_TO or preceding in _NOT_A_HUMAN_TO_TALK_TO:
            continue
        if following == "de" and not weak and i + 2 < len(words):  # "agente de movilidad"
            continue
        if _contact_before(words, i, reach=2 if weak else 5) or _wanted(words, i):
            return True
        if not weak and len(content) <= 3:  # "operador", "un humano por favor", "agent please"
            return True
    return False


_FILLER = frozenset(
    [
        "un",
        "una",
        "el",
        "la",
        "a",
        "al",
        "con",
        "por",
        "favor",
        "porfa",
        "pls",
        "please",
        "plz",
        "the",
        "an",
        "to",
        "with",
        "i",
        "me",
        "ya",
        "ahora",
        "now",
        "de",
        "oye",
        "hola",
        "hi",
    ]
)


def _wanted(words: list[str], position: int) -> bool:
    """ "quiero un humano", "I need a person": the wish right before the noun (articles aside)."""
    before = [w for w in words[max(0, position - 4) : position] if w not in _FILLER]
    return bool(before) and any(_fuzzy(before[-1], verb) for verb in _WANT_VERBS)


def _contact_before(words: list[str], position: int, reach: int) -> bool:
    window = words[max(0, position - reach) : position]
    return any(any(_fuzzy(word, verb) for verb in _CONTACT_VERBS) for word in window)


# ---- what only a person can do, and what the platform does itself -----------------------------------------------

_NEEDS_PERSON = (
    re.compile(r"\b(cobrad[oa]s? (dos|2) veces|cobro (doble|duplicado|indebido)|me han cobrado (de mas|mal|dos))"),
    re.compile(r"\b(devuelvan|devolver|devolucion de) (el|mi|mis)? ?(dinero|importe|pago)\b"),
    re.compile(r"\b(charged twice|double charged|refund)\b"),
    re.compile(r"\b(embargad[oa]|embargo) (mi|la|de mi) (cuenta|nomina|sueldo)\b"),
    re.compile(r"\b(emergencia|urgencia|me quiero suicidar|suicid|violencia|maltrato|agresion)\b"),
    re.compile(r"\b(emergency|suicide|violence|abuse)\b"),
)
_DEBTS = (
    re.compile(r"\b(que|cuanto|cuanta) (le )?(debo|adeudo|tengo pendiente|me queda por pagar)\b"),
    re.compile(r"\b(mis|tengo) (deudas|recibos pendientes|multas pendientes|pagos pendientes)\b"),
    re.compile(r"\b(tengo|hay) (alguna )?(deuda|multa|recibo)s? (pendientes?|sin pagar)\b"),
    re.compile(r"\bdebo (algo|dinero)( al ayuntamiento)?\b"),
    re.compile(r"\b(what|how much) do i owe\b"),
    re.compile(r"\b(my|any) (debts?|outstanding (fines|bills|payments|debts?)|unpaid (fines|bills|taxes))\b"),
)
_CASES = (
    re.compile(
        r"\b(como|que tal|en que estado) (va|esta|anda|van|estan)( el| la)? (mi|mis) "
        r"(caso|casos|expediente|expedientes|solicitud|solicitudes|queja|reclamacion|tramite|incidencia|peticion)"
    ),
    re.compile(r"\bestado de (mi|mis) (caso|casos|expediente|solicitud|queja|reclamacion|tramite|incidencia|peticion)"),
    re.compile(r"\b(mis casos|mi expediente|mis expedientes|mis solicitudes)\b"),
    re.compile(r"\b(status|state) of my (case|request|complaint|application|ticket)"),
    re.compile(r"\bmy (case|request|complaint|application|ticket) status\b"),
    re.compile(r"\bhow is my (case|request|complaint|application) (going|doing|progressing)\b"),
)


def needs_person(text: str) -> bool:
    """Something only a person can do or decide (a wrong or double charge, a refund, a seizure, an emergency)."""
    flat = " ".join(tokens(text))
    return any(pattern.search(flat) for pattern in _NEEDS_PERSON)


def procedure_of(text: str) -> Procedure | None:
    """The platform's own self-service the message asks for, if any."""
    flat = " ".join(tokens(text))
    if any(pattern.search(flat) for pattern in _DEBTS):
        return "debts"
    if any(pattern.search(flat) for pattern in _CASES):
        return "cases"
    return None


# ---- the decision ------------------------------------------------------------------------------------------------


def opening(calendar: BusinessCalendar, now: datetime) -> tuple[bool, datetime | None]:
    """Whether the people behind the assistant are at work now, and if not, when they next are (Madrid time)."""
    if calendar.is_open(now):
        return True, None
    return False, calendar.add(now, 0).astimezone(MADRID)


def handover(
    reason: HandoverReason,
    language: Language,
    calendar: BusinessCalendar,
    now: datetime,
    confidence: float | None = None,
) -> Handover:
    """A hand-over; out of hours it carries the next opening and offers a callback."""
    open_now, next_opening = opening(calendar, now)
    options = (TALK_TO_PERSON,) if open_now else (TALK_TO_PERSON, CALLBACK)
    return Handover(reason, language, open_now, next_opening, confidence, options)


def decide(
    message: str,
    *,
    retriever: Retriever,
    calendar: BusinessCalendar,
    now: datetime,
    authenticated: bool,
    language: Language | None = None,
    threshold: float = THRESHOLD,
) -> Reply:
    """The assistant's reply to one message (``language``: the conversation's, if already known)."""
    lang = language or detect_language(message)
    if asks_for_person(message):
        return handover("asked-for-person", lang, calendar, now)
    if needs_person(message):
        return handover("needs-procedure", lang, calendar, now)
    procedure = procedure_of(message)
    if procedure is not None:
        return ProcedureReply(procedure, lang, requires_authentication=not authenticated)
    ranked = list(retriever.rank(message, lang, 3))
    if not ranked or ranked[0].confidence < threshold:
        return handover("low-confidence", lang, calendar, now, ranked[0].confidence if ranked else 0.0)
    best = ranked[0]
    return Answer(
        best.article_id, best.version, best.language, best.confidence, tuple(c.article_id for c in ranked[1:])
    )


# ---- what the citizen reads beside the structured reply ----------------------------------------------------------

_TEXTS: dict[str, dict[Language, str]] = {
    "asked-for-person": {
        "es": "Te paso con una persona del equipo de atención.",
        "en": "I'm passing you to a person from the service team.",
    },
    "low-confidence": {
        "es": "No estoy seguro de tener la respuesta correcta; te paso con una persona.",
        "en": "I'm not sure I have the right answer, so I'm passing you to a person.",
    },
    "needs-procedure": {
        "es": "Esto tiene que verlo una persona; te paso con el equipo de atención. En una emergencia, llama al 112.",
        "en": "A person needs to look at this; I'm passing you to the service team. In an emergency, call 112.",
    },
    "closed": {
        "es": "Ahora no hay nadie atendiendo. Volvemos el {when} (hora de Madrid). ¿Quieres que te llamemos?",
        "en": "Nobody is available right now. We are back on {when} (Madrid time). Would you like us to call you back?",
    },
    "sign-in": {
        "es": "Para consultarlo necesito que te identifiques (Cl@ve o certificado digital).",
        "en": "To look that up I need you to sign in first (Cl@ve or digital certificate).",
    },
    "debts": {"es": "Estas son tus deudas con el Ayuntamiento:", "en": "These are your debts with the City Council:"},
    "no-debts": {
        "es": "No tienes deudas pendientes con el Ayuntamiento.",
        "en": "You have no pending debts with the City Council.",
    },
    "no-cases": {"es": "No tienes casos abiertos.", "en": "You have no cases."},
    "procedure-failed": {
        "es": "Ahora no puedo consultarlo. Inténtalo más tarde o habla con una persona.",
        "en": "I can't look that up right now. Try again later or talk to a person.",
    },
    "handover-requested": {
        "es": "Tu petición queda registrada como un caso: lo verás en «Mis casos».",
        "en": 'Your request is registered as a case: you\'ll find it in "My cases".',
    },
    "callback-requested": {
        "es": "Te llamaremos en cuanto abramos; tu petición queda registrada como un caso en «Mis casos».",
        "en": 'We\'ll call you back as soon as we open; your request is registered as a case in "My cases".',
    },
    "handover-sign-in": {
        "es": "Para pasarte con una persona necesito que te identifiques (Cl@ve o certificado digital): "
        "la conversación seguirá donde la dejas. También puedes llamar al 010.",
        "en": "To pass you to a person I need you to sign in (Cl@ve or digital certificate): the conversation "
        "will carry on where you leave it. You can also call 010.",
    },
    "handover-whatsapp": {
        "es": "Para pasarte con una persona, escríbenos en el chat de la web identificándote (Cl@ve) o llama al 010.",
        "en": "To pass you to a person, write to us in the web chat after signing in (Cl@ve) or call 010.",
    },
    "cases": {"es": "Este es el estado de tus casos:", "en": "This is the status of your cases:"},
    "answer": {"es": "Esto puede ayudarte:", "en": "This may help:"},
    TALK_TO_PERSON: {"es": "Hablar con una persona", "en": "Talk to a person"},
    CALLBACK: {"es": "Que me llamen", "en": "Call me back"},
}


def message_of(reply: Reply) -> str:
    """The sentence shown with a reply, in its language (the article's own text follows an answer)."""
    lang = reply.language
    if isinstance(reply, Answer):
        return _TEXTS["answer"][lang]
    if isinstance(reply, ProcedureReply):
        return _TEXTS["sign-in" if reply.requires_authentication else reply.procedure][lang]
    text = _TEXTS[reply.reason][lang]
    if reply.next_opening is not None:
        when = reply.next_opening.astimezone(MADRID).strftime("%d/%m/%Y %H:%M")
        text = f"{text} {_TEXTS['closed'][lang].format(when=when)}"
    return text


def text(key: str, language: Language) -> str:
    return _TEXTS[key][language]


def option_label(option: str, language: Language) -> str:
    return _TEXTS[option][language]


def sign_in_text(conversation: Conversation, reply: ProcedureReply) -> str:
    """A procedure on personal data asks for a signed-in citizen (on WhatsApp: the web chat, signed in)."""
    if conversation.channel == "whatsapp":
        return _TEXTS["handover-whatsapp"][reply.language].replace("pasarte con una persona", "consultarlo")
    return _TEXTS["sign-in"][reply.language]


def procedure_result(reply: ProcedureReply, found: list[dict[str, object]]) -> dict[str, object]:
    """What a procedure shows in the chat: a few fields of each item, as the platform's API answered them."""
    if reply.procedure == "debts":
        pending = [item for item in found if item.get("status") == "pending"]
        items = [
            {
                "id": item.get("id"),
                "kind": item.get("kind"),
                "concept": item.get("concept"),
                "amount_due_cents": (item.get("due") or {}).get("amount_due_cents"),  # type: ignore[attr-defined]
                "until": (item.get("due") or {}).get("until"),  # type: ignore[attr-defined]
            }
            for item in pending
        ]
    else:
        keys = ("id", "reference", "subject", "area", "level", "state", "updated_at")
        items = [{k: item.get(k) for k in keys if k in item} for item in found]
    empty = "no-debts" if reply.procedure == "debts" else "no-cases"
    return {"items": items, "count": len(items), "empty": _TEXTS[empty][reply.language] if not items else None}


def conversation_view(conversation: Conversation, case: dict[str, object] | None) -> dict[str, object]:
    """The transcript as its owner reads it back; the hand-over's case once it is open."""
    return {
        "id": conversation.id,
        "channel": conversation.channel,
        "language": conversation.language,
        "citizen_id": conversation.citizen_id,
        "opened_at": conversation.opened_at.isoformat(),
        "messages": [
            {"at": line.at.isoformat(), "speaker": line.speaker, "text": line.text, "reply": line.reply}
            for line in conversation.lines
        ],
        "articles": list(conversation.articles),
        "handover": None
        if conversation.handed_over_at is None
        else {
            "requested_at": conversation.handed_over_at.isoformat(),
            "request_id": conversation.id,
            "case": None if case is None else {k: case.get(k) for k in ("id", "reference", "state", "level", "area")},
        },
    }


def option_labels(reply: Reply) -> list[dict[str, str]]:
    """The buttons under a reply: "talk to a person" always, "call me back" out of hours."""
    return [{"id": option, "label": _TEXTS[option][reply.language]} for option in reply.options]


# ---- conversations ------------------------------------------------------------------------------------------------

Channel = Literal["web", "whatsapp"]
Speaker = Literal["citizen", "assistant"]
MAX_MESSAGE = 1000  # characters of one citizen message (a chat line, not a letter: a longer one is refused)
MAX_LINES = 200  # lines of a transcript: what a case carries (events/case.py); a longer chat starts anew
HANDOVER_AREA, HANDOVER_CATEGORY = "atencion-ciudadania", "informacion-general"  # level 1, general attention


class ConversationNotFoundError(NotFoundError):
    slug, title = "assistant-conversation-not-found", "No such conversation"


class NotYourConversationError(ForbiddenError):
    """An anonymous conversation is reached with its key only; a signed-in citizen's, by that citizen only."""

    slug, title = "assistant-not-your-conversation", "This conversation is not yours"


class ConversationFullError(ConflictError):
    slug, title = "assistant-conversation-full", "The conversation is too long: start a new one"


class BadSignatureError(ForbiddenError):
    """A webhook call whose ``X-Hub-Signature-256`` is missing or is not the app secret's HMAC of the body."""

    slug, title = "assistant-bad-signature", "The webhook's signature is missing or wrong"


@dataclass(frozen=True)
class Line:
    """One message of a conversation; the assistant's carry the structured reply the channel renders."""

    at: datetime
    speaker: Speaker
    text: str
    reply: dict[str, object] | None = None
    ref: str | None = None  # the channel's id of a citizen's message (WhatsApp's ``wamid``)


@dataclass(frozen=True)
class Conversation:
    """A conversation with the assistant on one channel: anonymous (reached with its key's digest), a signed-in
    citizen's, or a WhatsApp number's (``contact``: the number, to answer it)."""

    id: str
    channel: Channel
    language: Language
    opened_at: datetime
    citizen_id: str | None = None
    key_digest: str | None = None
    contact: str | None = None
    lines: tuple[Line, ...] = ()
    articles: tuple[str, ...] = ()  # the knowledge-base articles its answers used
    handed_over_at: datetime | None = None
    last_inbound_at: datetime | None = None
    version: int = 0

    def transcript(self) -> list[dict[str, object]]:
        return [{"at": line.at, "speaker": line.speaker, "text": line.text} for line in self.lines]


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_reach(conversation: Conversation, citizen_id: str | None, key: str | None) -> None:
    """Who may write to or read a conversation: its citizen (the policy decided on the token), or whoever holds
    an anonymous conversation's key; a WhatsApp conversation only through the provider's signed webhook."""
    if conversation.citizen_id is not None:
        if citizen_id != conversation.citizen_id:
            raise NotYourConversationError(f"conversation {conversation.id} belongs to a signed-in citizen")
        return
    if (
        conversation.key_digest is None
        or key is None
        or not hmac.compare_digest(conversation.key_digest, key_digest(key))
    ):
        raise NotYourConversationError(
            f"conversation {conversation.id} is reached with the key given when it was opened (X-Conversation-Key)"
        )


def with_lines(conversation: Conversation, *lines: Line, articles: Sequence[str] = ()) -> Conversation:
    """The conversation with new lines (``ConversationFullError`` past ``MAX_LINES``)."""
    if len(conversation.lines) + len(lines) > MAX_LINES:
        raise ConversationFullError(f"a conversation holds at most {MAX_LINES} messages; start a new one")
    inbound = [line.at for line in lines if line.speaker == "citizen"]
    return replace(
        conversation,
        lines=conversation.lines + lines,
        articles=tuple(dict.fromkeys([*conversation.articles, *articles])),
        last_inbound_at=max(inbound) if inbound else conversation.last_inbound_at,
    )


class AssistantStore(Protocol):
    """The assistant's table: conversations, and its projection of the knowledge base."""

    def fetch_conversation(self, conversation_id: str) -> Conversation | None: ...
    def fetch_by_citizen(self, citizen_id: str) -> list[Conversation]: ...
    def stage_conversation(self, uow: UnitOfWork, conversation: Conversation, expected: int | None) -> None: ...
    def stage_erasure(self, uow: UnitOfWork, conversation: Conversation) -> None: ...
