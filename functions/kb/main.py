"""Knowledge base (KB) entry points: thin. Parse, map to a command, call the use case, answer.

``kb_http`` (Knative Service ``pic-kb``):

- the public (the citizen app, the web, any channel; no token): ``GET /v1/kb/search?q=&language=&area=``,
  ``GET /v1/kb/public/articles/{id}``, ``POST /v1/kb/public/articles/{id}/feedback`` ("was this useful");
- agents and administrators: search any audience (``/v1/kb/internal/search``), the editors' list
  (``GET /v1/kb/articles``), create (``POST``), read with every version and both languages side by side, edit the
  draft, read any published version, publish or schedule, unschedule, archive (now or later), restore, and a draft
  proposed from a solved case (``POST /v1/kb/drafts-from-cases``).

``python -m functions.kb.seed`` publishes the shipped articles a store lacks (``make run`` and a Job run it).
"""

from __future__ import annotations

from typing import Any, Literal

import functions_framework
from flask import Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from functions.core.http import HttpFunction, Reply, RequestContext, Route, parse_query
from functions.kb import handlers, service
from functions.kb.bootstrap import ports
from functions.kb.service import SLUG, Article, ArticleInput, Language

NAME = "pic-kb"
AREA = r"^[a-z][a-z0-9-]{1,63}$"


def _author(ctx: RequestContext) -> str:
    return f"{ctx.subject.role}:{ctx.subject.id}"


def _editor_reply(status: int = 200) -> Any:
    def reply(article: Article) -> Reply:
        return Reply(status, handlers.editor_view(article, ports()), {"Location": f"/v1/kb/articles/{article.id}"})

    return reply


# ---- the public ---------------------------------------------------------------------------------------------


class SearchQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(min_length=1, max_length=300, description="the words as typed (typos and accents tolerated)")
    language: Language = "es"
    area: str | None = Field(None, pattern=AREA, description="only the articles this area's portal shows")
    limit: int = Field(handlers.SEARCH_LIMIT, ge=1, le=50)


class InternalSearchQuery(SearchQuery):
    audience: service.Audience = "internal"


def get_search(ctx: RequestContext) -> Reply:
    """The public articles that best answer ``q``, in ``language`` (the other language where one lacks it)."""
    query = parse_query(ctx.request, SearchQuery)
    hits = handlers.search(query.q, query.language, "public", ports(), area=query.area, limit=query.limit)
    return Reply(200, {"query": query.q, "language": query.language, "audience": "public", "results": hits})


def get_internal_search(ctx: RequestContext) -> Reply:
    """What an audience (internal by default: the agents') sees that best answers ``q``."""
    query = parse_query(ctx.request, InternalSearchQuery)
    hits = handlers.search(query.q, query.language, query.audience, ports(), area=query.area, limit=query.limit)
    return Reply(200, {"query": query.q, "language": query.language, "audience": query.audience, "results": hits})


class ReadQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Language = "es"
    area: str | None = Field(None, pattern=AREA)


def get_public_article(ctx: RequestContext, article_id: str) -> Reply:
    """The version in force for the public, in a language (Spanish where the English text is missing)."""
    query = parse_query(ctx.request, ReadQuery)
    return Reply(200, handlers.public_view(article_id, query.language, query.area, ports()))


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    language: Language
    useful: bool
    voter: str | None = Field(
        None, min_length=8, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$",
        description="an opaque id the channel gives the person (a session's hash): counted once per voter",
    )  # fmt: skip


def post_feedback(ctx: RequestContext, article_id: str, body: FeedbackBody) -> Reply:
    """One more "was this useful" for a version read in a language; a voter's second answer is not counted."""
    voter = body.voter or ctx.traceparent  # no voter: one answer per request (the channel did not say who)

    def reply(done: handlers.Counted) -> Reply:
        tally = done.tally
        return Reply(201 if done.counted else 200, {"article_id": article_id, "version": tally.version,
                     "language": tally.language, "counted": done.counted, "useful": tally.useful,
                     "not_useful": tally.not_useful})  # fmt: skip

    def step() -> Any:
        return handlers.give_feedback(article_id, body.version, body.language, body.useful, voter, ports())

    return ctx.run(step, reply)


# ---- agents and editors --------------------------------------------------------------------------------------


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["draft", "scheduled", "published", "superseded", "archived"] | None = None
    stale: bool | None = Field(None, description="true: only articles with a translation to check")


def get_articles(ctx: RequestContext) -> Reply:
    query = parse_query(ctx.request, ListQuery)
    return Reply(200, {"articles": handlers.listing(ports(), state=query.state, stale=query.stale)})


class NewArticle(ArticleInput):
    id: str = Field(pattern=SLUG, description="the article's slug, its id for good")


def post_article(ctx: RequestContext, body: NewArticle) -> Reply:
    """A new article, its first version a draft (publishing is a separate step)."""
    proposed = body.model_dump(mode="json", exclude={"id"}, exclude_none=True)
    return ctx.run(lambda: handlers.create(body.id, proposed, _author(ctx), ports()), _editor_reply(201))


def get_article(ctx: RequestContext, article_id: str) -> Reply:
    """The article for its editors: every version and its state, the latest side by side, the feedback."""
    return Reply(200, handlers.editor_view(handlers.find(article_id, ports()), ports()))


class DraftBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: int = Field(ge=1, description="the article's revision the editor read")
    article: ArticleInput


def put_draft(ctx: RequestContext, article_id: str, body: DraftBody) -> Reply:
    """Save the draft (after a published version: a new one); refused if the article changed since it was read."""
    proposed = body.article.model_dump(mode="json", exclude_none=True)
    return ctx.run(lambda: handlers.edit(article_id, proposed, body.revision, _author(ctx), ports()), _editor_reply())


def get_version(ctx: RequestContext, article_id: str, version: str) -> Reply:
    """Any version ever published (superseded or archived included), both languages side by side."""
    query = parse_query(ctx.request, ReadQuery)
    if not version.isdigit():
        raise service.KbNotFoundError(f"no version {version[:20]!r}")
    return Reply(200, handlers.version_view(article_id, int(version), query.language, ports()))


class WhenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: int = Field(ge=1)
    at: AwareDatetime | None = Field(None, description="later (scheduled); now when absent")


class RevisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: int = Field(ge=1)


def post_publication(ctx: RequestContext, article_id: str, body: WhenBody) -> Reply:
    """Publish the draft now or schedule it; the assistant and the public see it from that instant."""
    tp = ctx.traceparent
    return ctx.run(lambda: handlers.publish(article_id, body.revision, body.at, ports(), tp), _editor_reply())


def post_unschedule(ctx: RequestContext, article_id: str, body: RevisionBody) -> Reply:
    tp = ctx.traceparent
    return ctx.run(lambda: handlers.unschedule(article_id, body.revision, ports(), tp), _editor_reply())


def post_archive(ctx: RequestContext, article_id: str, body: WhenBody) -> Reply:
    """Withdraw the article from every audience now or later; agents keep reading its versions."""
    tp = ctx.traceparent
    return ctx.run(lambda: handlers.archive(article_id, body.revision, body.at, ports(), tp), _editor_reply())


def post_restore(ctx: RequestContext, article_id: str, body: RevisionBody) -> Reply:
    tp = ctx.traceparent
    return ctx.run(lambda: handlers.restore(article_id, body.revision, ports(), tp), _editor_reply())


class FromCaseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(pattern=r"^case-[0-9a-f]{24}$")
    area: str = Field(pattern=AREA)
    category: str = Field(pattern=SLUG)
    subject: str = Field(min_length=3, max_length=200)
    resolution: str = Field(min_length=20, max_length=20_000, description="the answer that solved the case")
    language: Language = "es"


def post_draft_from_case(ctx: RequestContext, body: FromCaseBody) -> Reply:
    """A draft for the editors from a solved case's resolution, without its personal data; never published by
    this. The same case again answers the draft it made."""
    cmd = handlers.ProposeFromCase(
        body.case_id, body.area, body.category, body.subject, body.resolution, body.language, _author(ctx)
    )

    def reply(done: tuple[Article, bool]) -> Reply:
        answer: Reply = _editor_reply(201 if done[1] else 200)(done[0])
        return answer

    return ctx.run(lambda: handlers.propose_from_case(cmd, ports()), reply)


ARTICLE = "/v1/kb/articles/<article_id>"

ROUTES = [
    Route("/v1/kb/search", "GET", get_search, "Search the public articles (es/en; typos tolerated)", public=True),
    Route("/v1/kb/public/articles/<article_id>", "GET", get_public_article, "A public article's version in force",
          public=True),
    Route("/v1/kb/public/articles/<article_id>/feedback", "POST", post_feedback, "Was this useful? (once per voter)",
          request_model=FeedbackBody, status=201, public=True),
    Route("/v1/kb/internal/search", "GET", get_internal_search, "Search what an audience sees (agents)",
          action="kb.read"),
    Route("/v1/kb/articles", "GET", get_articles, "Every article for the editors: state, stale translations",
          action="kb.read"),
    Route("/v1/kb/articles", "POST", post_article, "A new article (its first version a draft)",
          request_model=NewArticle, status=201, idempotent_writes=True, action="kb.edit",
          links={"article_id": "/id"}),
    Route(ARTICLE, "GET", get_article, "An article: versions, both languages side by side, feedback",
          action="kb.read"),
    Route(f"{ARTICLE}/draft", "PUT", put_draft, "Save the draft (a new one after a published version)",
          request_model=DraftBody, idempotent_writes=True, action="kb.edit"),
    Route(f"{ARTICLE}/versions/<version>", "GET", get_version, "Any version ever published", action="kb.read"),
    Route(f"{ARTICLE}/publication", "POST", post_publication, "Publish the draft now or schedule it",
          request_model=WhenBody, idempotent_writes=True, action="kb.publish"),
    Route(f"{ARTICLE}/unschedule", "POST", post_unschedule, "A scheduled version back to a draft",
          request_model=RevisionBody, idempotent_writes=True, action="kb.publish"),
    Route(f"{ARTICLE}/archive", "POST", post_archive, "Withdraw the article now or later",
          request_model=WhenBody, idempotent_writes=True, action="kb.publish"),
    Route(f"{ARTICLE}/restore", "POST", post_restore, "Cancel an archive", request_model=RevisionBody,
          idempotent_writes=True, action="kb.publish"),
    Route("/v1/kb/drafts-from-cases", "POST", post_draft_from_case, "A draft proposed from a solved case",
          request_model=FromCaseBody, status=201, idempotent_writes=True, action="kb.edit",
          links={"article_id": "/id"}),
]  # fmt: skip

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def kb_http(request: Request) -> Response:
    return http_api(request)
