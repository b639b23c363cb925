# One table per pynamodb model that defines a table (functions/*/storage.py, functions/core/*.py): keys,
# indexes and TTL must match the model (tests/contract/test_terraform.py checks it). Names carry the same
# prefix the functions read from PIC_TABLE_PREFIX.

# functions/core/outbox.py OutboxRecord: events waiting for the relay; a week of TTL.
module "table_outbox" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}outbox"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
    { name = "pending_shard", type = "S" },
    { name = "created_at", type = "S" },
  ]
  global_secondary_indexes = [
    # Sparse: only unsent rows carry pending_shard; the relay polls it shard by shard.
    { name = "pending", hash_key = "pending_shard", range_key = "created_at", projection_type = "ALL" },
  ]
  ttl_attribute_name = "expires_at"

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# functions/core/idempotency.py IdempotencyRecord: work already done under a key; expires after its TTL.
module "table_idempotency" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}idempotency"
  hash_key = "key"
  attributes = [
    { name = "key", type = "S" },
  ]
  ttl_attribute_name = "expires_at"

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# functions/consent/storage.py ConsentItem family: state, proofs, preferences and subscriptions per citizen.
# No TTL: consent proofs are legal evidence (RGPD art. 7.1) and are kept.
module "table_consent" {
  source = "../../modules/dynamodb-table"

  name      = "${var.table_prefix}consent"
  hash_key  = "citizen_id"
  range_key = "item"
  attributes = [
    { name = "citizen_id", type = "S" },
    { name = "item", type = "S" },
    { name = "topic_zone", type = "S" },
  ]
  global_secondary_indexes = [
    # Who is subscribed to a topic in a zone (alert fan-out); only subscription items carry topic_zone.
    { name = "by-topic-zone", hash_key = "topic_zone", range_key = "citizen_id", projection_type = "KEYS_ONLY" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# functions/citizen/storage.py CitizenItem family: golden records, their source links, source-record and
# document pointers (C360). No TTL: golden records live as long as the citizen's records do.
module "table_citizen" {
  source = "../../modules/dynamodb-table"

  name      = "${var.table_prefix}citizen"
  hash_key  = "pk"
  range_key = "sk"
  attributes = [
    { name = "pk", type = "S" },
    { name = "sk", type = "S" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# functions/rgpd/storage.py RgpdItem family: data-subject requests, each domain's answer (the proof), the
# exports in pieces under the 400 KB item limit, and the restriction/objection flags. No TTL: the requests
# and their answers are the council's evidence of having answered (RGPD arts. 5.2 and 12.3).
module "table_rgpd" {
  source = "../../modules/dynamodb-table"

  name      = "${var.table_prefix}rgpd"
  hash_key  = "pk"
  range_key = "sk"
  attributes = [
    { name = "pk", type = "S" },
    { name = "sk", type = "S" },
    { name = "citizen_id", type = "S" },
    { name = "opened_at", type = "S" },
  ]
  global_secondary_indexes = [
    # A citizen's requests; only request items carry citizen_id.
    { name = "by-citizen", hash_key = "citizen_id", range_key = "opened_at", projection_type = "ALL" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- global position (POS), interactions (INTX) and the access log (audit) ----

# functions/interaction/storage.py InteractionItem: one item per interaction, append-only (its citizen_id is
# stamped once C360 links the record it was recorded against), and RecordItem ("rec#<source>#<local_id>": C360's
# link of an area system's record and the interactions recorded against it). No TTL: how long interactions are
# kept is a retention rule (policies/rgpd), applied by the erasure path. Index by-citizen: a golden record's
# interactions (timeline, RGPD export and erasure); by-linked-citizen: the records linked to a golden record
# (deleted by the person's erasure).
module "table_interaction" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}interaction"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
    { name = "citizen_id", type = "S" },
    { name = "recorded_at", type = "S" },
    { name = "linked_citizen_id", type = "S" },
  ]
  global_secondary_indexes = [
    # Only interactions attached to a golden record carry it (sparse).
    { name = "by-citizen", hash_key = "citizen_id", range_key = "recorded_at", projection_type = "ALL" },
    # Only record items carry it (sparse): the records linked to a person, deleted by their erasure.
    { name = "by-linked-citizen", hash_key = "linked_citizen_id", projection_type = "KEYS_ONLY" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- campaigns (CAMP) ----

# functions/campaign/storage.py CampaignItem: pk + sk. The audience projection ("aud#<citizen>" / "-", one row a
# citizen), saved segments ("seg#<id>" / "-") and their deltas ("seg#<id>" / "delta#<citizen>"), campaigns
# ("cmp#<id>" / "-", written under their revision) and the impact counters ("imp#<campaign>#<shard>" / the
# breakdown, ADD). Sparse indexes: by-kind (the lists of segments and campaigns), active (the campaigns the
# dispatcher looks at each second). No TTL: the audience row lives as long as its sources announce the person.
module "table_campaign" {
  source = "../../modules/dynamodb-table"

  name      = "${var.table_prefix}campaign"
  hash_key  = "pk"
  range_key = "sk"
  attributes = [
    { name = "pk", type = "S" },
    { name = "sk", type = "S" },
    { name = "kind", type = "S" },
    { name = "created_at", type = "S" },
    { name = "active", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "by-kind", hash_key = "kind", range_key = "created_at", projection_type = "ALL" },
    { name = "active", hash_key = "active", range_key = "pk", projection_type = "KEYS_ONLY" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- cases (CASE) ----

# functions/case/storage.py CaseItem: one item per case ("case-<hash>", its whole history as JSON, written whole
# under its version), the areas' configurations ("config#<area>", each version also as "config#<area>#v<N>"),
# agents' presence and load ("agent#<id>") and the rosters of the queues ("roster#<queue>"). No TTL: a case is an
# administrative file, kept as policies/rgpd/retention says (domain case). Sparse indexes: by-citizen (a person's
# cases, RGPD export), by-queue (a queue's backlog in order while cases wait unassigned), by-assignee (an agent's
# cases), by-sla (what the SLA sweep looks at next, spread over 8 shards), by-resolved-month (the SLA report).
module "table_case" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}case"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
    { name = "citizen_id", type = "S" },
    { name = "opened_at", type = "S" },
    { name = "waiting_queue", type = "S" },
    { name = "queue_rank", type = "S" },
    { name = "assignee", type = "S" },
    { name = "sla_shard", type = "S" },
    { name = "sla_next_at", type = "S" },
    { name = "resolved_month", type = "S" },
    { name = "resolved_at", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "by-citizen", hash_key = "citizen_id", range_key = "opened_at", projection_type = "ALL" },
    { name = "by-queue", hash_key = "waiting_queue", range_key = "queue_rank", projection_type = "ALL" },
    { name = "by-assignee", hash_key = "assignee", range_key = "opened_at", projection_type = "ALL" },
    { name = "by-sla", hash_key = "sla_shard", range_key = "sla_next_at", projection_type = "ALL" },
    { name = "by-resolved-month", hash_key = "resolved_month", range_key = "resolved_at", projection_type = "ALL" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- the virtual assistant (BOT) ----

# functions/assistant/storage.py AssistantItem: one item per conversation ("conv-<hex>", its transcript as JSON,
# written whole under its version), the knowledge base's articles as the assistant projects them ("kb#<article>",
# the highest revision with the vectors of its texts) and the projection's counter ("catalog"). TTL expires_at:
# a conversation goes 30 days after its last message (RGPD art. 5.1.e; the transcript of a hand-over lives on in
# its case). Sparse indexes: by-citizen (a signed-in person's conversations, RGPD answers), by-kind (every
# projected article, what the retriever is built from).
module "table_assistant" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}assistant"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
    { name = "citizen_id", type = "S" },
    { name = "opened_at", type = "S" },
    { name = "kind", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "by-citizen", hash_key = "citizen_id", range_key = "opened_at", projection_type = "ALL" },
    { name = "by-kind", hash_key = "kind", range_key = "id", projection_type = "ALL" },
  ]
  ttl_attribute_name = "expires_at"

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- knowledge base (KB) ----

# functions/kb/storage.py KbItem: one item per article with all its versions ("article#<id>", written whole under
# its revision), the catalogue (the article ids and a counter every article write bumps), the "was this useful"
# tallies per version and language and the votes (hashes) that count each voter once. No index: the catalogue item
# lists the articles, read by BatchGetItem. No TTL: articles are the council's published information.
module "table_kb" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}kb"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- surveys (SURV) ----

# functions/survey/storage.py SurveyItem: surveys ("survey#<id>", written whole under their revision), the triggers'
# registry ("registry"), responses ("resp#<survey>#<key>", new or under their revision), the respondents of anonymous
# surveys apart from their answers ("mark#..."), invitations made ("inv#..."), the invited counter ("stats#...") and
# delayed invitations ("due#..."). No TTL: responses are kept as policies/rgpd/retention says (domain survey). Sparse
# indexes: by-kind (the editors' list), by-survey (a survey's responses: results), by-citizen (a person's identified
# responses and markers: RGPD), by-due (the delayed invitations due, for the release pass).
module "table_survey" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}survey"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
    { name = "kind", type = "S" },
    { name = "responses_of", type = "S" },
    { name = "citizen_id", type = "S" },
    { name = "due_shard", type = "S" },
    { name = "due_at", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "by-kind", hash_key = "kind", projection_type = "ALL" },
    { name = "by-survey", hash_key = "responses_of", projection_type = "ALL" },
    { name = "by-citizen", hash_key = "citizen_id", projection_type = "ALL" },
    { name = "by-due", hash_key = "due_shard", range_key = "due_at", projection_type = "KEYS_ONLY" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- contact routing (CCAAS) ----

# functions/routing/storage.py RoutingItem: one item per contact ("ctc-<hash>", its history as JSON, written whole
# under its version), per office ticket ("tkt-..."), per IVR call ("ivr-<hash>"), agents' routing profiles and load
# ("agent#<id>"), the queues' rosters ("roster#<queue>"), queues' configurations and IVR flows with every version
# ("queue#<name>[#v<N>]", "ivr#<name>[#v<N>]"). No TTL: routing records are kept for the statistics; an erasure
# removes the person from them (policies/rgpd/retention, domain routing). Sparse indexes: by-queue (a queue's
# waiting contacts by priority and age), by-next (what the sweep looks at next: offers and steps that expire, over 8
# shards), by-agent (what an agent is offered and attends), by-citizen (RGPD), by-day (a queue's day: statistics).
module "table_routing" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}routing"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
    { name = "created_at", type = "S" },
    { name = "waiting_queue", type = "S" },
    { name = "queue_rank", type = "S" },
    { name = "next_shard", type = "S" },
    { name = "next_at", type = "S" },
    { name = "agent_id", type = "S" },
    { name = "citizen_id", type = "S" },
    { name = "stats_day", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "by-queue", hash_key = "waiting_queue", range_key = "queue_rank", projection_type = "ALL" },
    { name = "by-next", hash_key = "next_shard", range_key = "next_at", projection_type = "ALL" },
    { name = "by-agent", hash_key = "agent_id", range_key = "created_at", projection_type = "ALL" },
    { name = "by-citizen", hash_key = "citizen_id", range_key = "created_at", projection_type = "ALL" },
    { name = "by-day", hash_key = "stats_day", range_key = "created_at", projection_type = "ALL" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- fines and taxes (PAY) ----

# functions/payment/storage.py DebtItem: one item per fine or tax receipt an area system issued ("fine-<id>",
# "receipt-<id>"), replaced by a correction while unpaid, every write conditioned on its version. No TTL: how
# long debts are kept is a retention rule (policies/rgpd/retention, domain payment), applied by the erasure
# path. Index by-citizen: a person's debts (GET /v1/citizens/{id}/debts, RGPD export and erasure); by-day
# (sparse: ledger entries only): the daily reconciliation export.
module "table_payment" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}payment"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
    { name = "citizen_id", type = "S" },
    { name = "day", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "by-citizen", hash_key = "citizen_id", range_key = "id", projection_type = "ALL" },
    { name = "by-day", hash_key = "day", range_key = "id", projection_type = "ALL" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# functions/flags/storage.py FlagsItem: the micro-apps' flags an administrator changed (pk "flag"), their
# history (pk "flag-history#<app>", written once) and each citizen's home arrangement (pk "apps#<citizen>",
# erased on an RGPD request). No TTL: the history is the audit trail of every switch.
module "table_flags" {
  source = "../../modules/dynamodb-table"

  name      = "${var.table_prefix}flags"
  hash_key  = "pk"
  range_key = "sk"
  attributes = [
    { name = "pk", type = "S" },
    { name = "sk", type = "S" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# functions/position/storage.py PositionRow: the global position's projections (links, memberships, facts).
# Rebuildable from the events; no TTL (facts end when their area system withdraws them).
module "table_position" {
  source = "../../modules/dynamodb-table"

  name      = "${var.table_prefix}position"
  hash_key  = "pk"
  range_key = "sk"
  attributes = [
    { name = "pk", type = "S" },
    { name = "sk", type = "S" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# functions/audit/storage.py AccessItem: the access log, append-only, newest first per citizen. No TTL: it is
# evidence of accountability (RGPD art. 5.2).
module "table_audit" {
  source = "../../modules/dynamodb-table"

  name      = "${var.table_prefix}audit"
  hash_key  = "citizen_id"
  range_key = "entry"
  attributes = [
    { name = "citizen_id", type = "S" },
    { name = "entry", type = "S" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- channels (issue 13): the citizen app ----

# functions/web/storage.py SessionItem and BarrierItem: server-side sessions (the access token never reaches
# the browser) and reported accessibility barriers (key barrier#<id>), both deleted by TTL on expires_at.
module "table_web" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}web"
  hash_key = "session_id"
  attributes = [
    { name = "session_id", type = "S" },
  ]
  ttl_attribute_name = "expires_at"

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- notifications and alerts (NOT) ----
# functions/notification/storage.py NotificationItem family: templates (every version kept), notifications
# and their history (index by-recipient: what was sent to a citizen id or to an address's blind index, for
# access and erasure requests, sparse), the projection of CON and C360 events and RGPD flags per citizen,
# subscriptions (index by-topic-zone for alert fan-out, sparse), in-app inboxes, bulk jobs and alerts. TTL on expires_at: a
# notification is kept a year and a month as proof it was sent, then expires; templates and the projection
# carry no expires_at and are kept.
module "table_notification" {
  source = "../../modules/dynamodb-table"

  name      = "${var.table_prefix}notification"
  hash_key  = "pk"
  range_key = "sk"
  attributes = [
    { name = "pk", type = "S" },
    { name = "sk", type = "S" },
    { name = "topic_zone", type = "S" },
    { name = "recipient_key", type = "S" },
  ]
  global_secondary_indexes = [
    # Who is subscribed to a topic in a zone (alert fan-out); only live subscription items carry topic_zone.
    { name = "by-topic-zone", hash_key = "topic_zone", range_key = "pk", projection_type = "KEYS_ONLY" },
    # What was sent to a person (cit#<id>, or email#/phone# and the address's blind index); notifications only.
    { name = "by-recipient", hash_key = "recipient_key", range_key = "pk", projection_type = "KEYS_ONLY" },
  ]
  ttl_attribute_name = "expires_at"

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- the wallet (WAL, issue 17) ----

# functions/wallet/storage.py WalletItem: card types edited by an admin ("type#<id>", under their version), the facts
# eligibility reads ("facts#<citizen>"), the OpenID4VCI one-time secrets by their SHA-256 ("offer#", "token#",
# "nonce#": TTL expires_at a day after they expire), the cards issued ("card#<id>", their copies' status-list
# entries) and the status lists ("list#<id>": 2-bit statuses and the allocation bitmap, under their version), with
# the current list of each type ("current#<type>"). Sparse index by-citizen: a person's cards (the wallet page, RGPD).
module "table_wallet" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}wallet"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
    { name = "citizen_id", type = "S" },
    { name = "issued_at", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "by-citizen", hash_key = "citizen_id", range_key = "issued_at", projection_type = "ALL" },
  ]
  ttl_attribute_name = "expires_at"

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- verifier (WAL, issue 17) ----

# functions/verifier/storage.py VerifierItem: verification requests and their verdicts ("req#<id>", written new and
# answered once under their revision) and the reads of a verdict ("read#<id>#<at>#<reader>"). TTL on `expires_at`: a day
# after the request both go (a verdict is needed at the counter, not kept; RGPD art. 5.1.e). No index.
module "table_verifier" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}verifier"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
  ]
  ttl_attribute_name = "expires_at"

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- ZBE authorisations (issue 18) ----

# functions/zbe/storage.py ZbeItem: Movilidad's vehicles ("veh#<plate>": label, holder, district, under their version)
# and the applications ("app#<id>": the application and its decision, under their version). Index by-citizen: a
# person's applications (their page, RGPD); sparse index by-state (state, state_at): the desk's review queue
# ("pending-review") and the cameras' plate list ("granted"); a refused application is in neither.
module "table_zbe" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}zbe"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
    { name = "citizen_id", type = "S" },
    { name = "created_at", type = "S" },
    { name = "state", type = "S" },
    { name = "state_at", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "by-citizen", hash_key = "citizen_id", range_key = "created_at", projection_type = "ALL" },
    { name = "by-state", hash_key = "state", range_key = "state_at", projection_type = "ALL" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- bookings (issue 18) ----

# functions/booking/storage.py BookingItem: a slot's places and waiting list ("slot#<slot id>", under its version:
# the last place is taken once), the bookings ("booking#<id>", under their version) and the person's rule facts and
# active bookings ("person#<citizen>", under its version: the weekly limit holds under concurrency). Index
# by-citizen: a person's bookings (the app, the desk, RGPD); sparse index by-hold: the bookings held for payment by
# when their hold ends (the holds sweep). No TTL: bookings are kept as policies/rgpd/retention says (4 years).
module "table_booking" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}booking"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
    { name = "citizen_id", type = "S" },
    { name = "created_at", type = "S" },
    { name = "hold", type = "S" },
    { name = "held_until", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "by-citizen", hash_key = "citizen_id", range_key = "created_at", projection_type = "ALL" },
    { name = "by-hold", hash_key = "hold", range_key = "held_until", projection_type = "ALL" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- events near me (GEO, issue 18) ----

# functions/agenda/storage.py AgendaItem: the council's events ("ev#<id>", written new or under their content hash),
# the H3 cell keys of "near me" ("cell#<cell>": a string set of event ids, ADD/DELETE), the agenda files' reports
# ("ingest#<sha256>"), a person's zones ("zones#<citizen>", under their revision) and saved events ("saved#<citizen>").
# No TTL: a person's zones and saved events are erased on request or with the location consent (policies/rgpd/retention,
# domain agenda). Sparse index by-kind: the desk's list of the agenda.
module "table_agenda" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}agenda"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
    { name = "kind", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "by-kind", hash_key = "kind", projection_type = "ALL" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- incidents on the public way (Avisos Madrid, Open311; issue 18) ----

# functions/incident/storage.py IncidentItem: reports ("inc#<id>", written whole under their revision), "me too"
# followers ("fol#<id>#<citizen>"), batch tokens ("tok#<token>"), registered Open311 clients ("key#<sha256 of the
# api_key>") and photos ("photo#<id>#<n>", re-encoded, at most 350 KB). No TTL: reports are public records of the
# public way; a person's link to them is erased on request (policies/rgpd/retention, domain incident). Sparse
# indexes: by-near (open reports by "<service_code>#<grid cell>": duplicate suggestions), by-month (Open311's
# date-range search, newest first), by-citizen (a person's reports and follows: the app, the desk, RGPD).
module "table_incident" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}incident"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
    { name = "near", type = "S" },
    { name = "month", type = "S" },
    { name = "requested_at", type = "S" },
    { name = "citizen_id", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "by-near", hash_key = "near", projection_type = "ALL" },
    { name = "by-month", hash_key = "month", range_key = "requested_at", projection_type = "ALL" },
    { name = "by-citizen", hash_key = "citizen_id", projection_type = "KEYS_ONLY" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- recommendations (REC, issue 18) ----

# functions/recommend/storage.py RecommendItem: each citizen's projected facts and feedback ("profile#<citizen_id>",
# under its version) and the agenda's events ("event#<event_id>"). Sparse index by-district: the events of a
# person's zones (only event items carry `district`). No TTL: a profile lives as long as its sources' events.
module "table_recommend" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}recommend"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
    { name = "district", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "by-district", hash_key = "district", range_key = "id", projection_type = "ALL" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- API consumers (issue 19, docs/decisions/0035) ----

# functions/core/quota.py UsageItem: each internal system's client per UTC hour (client_id + YYYY-MM-DDTHH): the
# fixed-window counters its quota is decided on (one conditional UpdateItem per request, by every HTTP function)
# and the hour's admitted requests and 403/429 refusals. Usage, not evidence, no person's data: TTL 90 days.
module "table_consumers" {
  source = "../../modules/dynamodb-table"

  name      = "${var.table_prefix}consumers"
  hash_key  = "client_id"
  range_key = "hour"
  attributes = [
    { name = "client_id", type = "S" },
    { name = "hour", type = "S" },
  ]
  ttl_attribute_name = "expires_at"

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}

# ---- legacy batch adapters (INTG, issue 19) ----

# functions/intake/storage.py IntakeItem: the ledger ("led#<system>#<kind>:<record key>": the hash of what was last
# sent for that record, read in BatchGetItem of 100 and written in BatchWriteItem of 25) and the files' reports
# ("file#<system>-<sha256>"). No TTL on the ledger (it is what makes a re-run change nothing); a report's bad lines
# carry the raw text of the refused records (personal data: kept as long as the report, docs/decisions/0032).
# Sparse index by-received: the reports newest first.
module "table_intake" {
  source = "../../modules/dynamodb-table"

  name     = "${var.table_prefix}intake"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
    { name = "kind", type = "S" },
    { name = "received_at", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "by-received", hash_key = "kind", range_key = "received_at", projection_type = "ALL" },
  ]

  kms_key_arn                           = module.kms.key_arn
  point_in_time_recovery_enabled        = true
  point_in_time_recovery_period_in_days = var.point_in_time_recovery_period_in_days
  deletion_protection_enabled           = var.deletion_protection_enabled
}
