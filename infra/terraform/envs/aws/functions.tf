# One IAM role per function (Knative Service or Deployment in infra/k8s/base), assumed through IRSA by the
# function's service account: same name as the function, in the PIC namespace. Each grants the DynamoDB
# calls the function's code makes, on its tables only, and the tables' key only through DynamoDB.
# tests/contract/test_terraform.py checks that every function has its role.

# functions/consent/main.py consent_http: reads state/history/preferences/subscriptions (GetItem, Query),
# writes them and deletes subscriptions in one TransactWriteItems with an outbox row and an idempotency
# record (PutItem, DeleteItem), reads idempotency records (GetItem).
# Appends the access record of every read of a citizen's data (access log PutItem, ADR 0010).
module "role_pic_consent" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-consent"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-consent"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "AccessLogAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "ConsentReadWrite"
      table_arn = module.table_consent.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/consent/main.py consent_events: the same unit of work, driven by CloudEvents.
module "role_pic_consent_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-consent-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-consent-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsentReadWrite"
      table_arn = module.table_consent.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/citizen/main.py citizen_http: reads source pointers, golden records, their links and merge
# snapshots, and the review queue (GetItem, Query, BatchGetItem); merges (a review decided "match") and
# un-merges move links in one TransactWriteItems (PutItem, DeleteItem) with the merged/unmerged/updated
# outbox rows and the Idempotency-Key record (GetItem, PutItem). Every read of a golden record, a lookup
# and the review queue appends its access record to the access log (functions/core/audit.py: PutItem).
module "role_pic_citizen" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-citizen"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-citizen"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "AccessLogAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "CitizenReadWrite"
      table_arn = module.table_citizen.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/citizen/main.py citizen_events: reads pointers, golden records, links and the candidates of the
# record's blocks (GetItem, Query, BatchGetItem), and writes golden record, link, pointers, block items
# (PutItem; DeleteItem for blocks a changed record leaves), a review and a citizen.updated outbox row with
# the event's idempotency record in one TransactWriteItems; reads idempotency records (GetItem).
# Data-subject requests (functions/citizen/rights.py): reads the golden record, its links, merge snapshots
# and the review queue (GetItem, Query, BatchGetItem); an erasure deletes links, pointers, block items,
# document claims, reviews, snapshots and the golden record (DeleteItem) and rewrites the golden record,
# a rectification writes the person's own contact link (PutItem), with the rgpd.domain.answered and
# citizen.updated outbox rows (PutItem): no new action beyond those below.
module "role_pic_citizen_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-citizen-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-citizen-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "CitizenReadWrite"
      table_arn = module.table_citizen.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/core/relay.py, one relay per domain (infra/k8s/base/senders): polls its domain's shard of the
# outbox's pending index (Query on the index only), marks rows sent (BatchWriteItem) and records failed
# attempts (UpdateItem). Each runs as its domain's ServiceAccount, which is also the domain's sender identity
# at the broker (docs/decisions/0011).
module "role_pic_audit_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-audit-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-audit-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_citizen_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-citizen-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-citizen-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_consent_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-consent-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-consent-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_flags_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-flags-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-flags-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_interaction_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-interaction-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-interaction-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_assistant_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-assistant-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-assistant-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_case_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-case-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-case-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_kb_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-kb-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-kb-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_survey_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-survey-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-survey-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_routing_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-routing-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-routing-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_payment_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-payment-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-payment-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_notification_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-notification-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-notification-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_position_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-position-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-position-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_rgpd_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-rgpd-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-rgpd-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/rgpd/main.py rgpd_http: reads requests, answers, export pieces and flags (GetItem, Query) and a
# citizen's requests (Query on by-citizen); opens a request with its flags, the request.opened and
# flags.changed outbox rows (request.extended when extended) and an idempotency record in one
# TransactWriteItems (PutItem); reads idempotency records (GetItem).
# Appends the access record of every read of a citizen's data (access log PutItem, ADR 0010).
module "role_pic_rgpd" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-rgpd"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-rgpd"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "AccessLogAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid           = "RgpdReadWrite"
      table_arn     = module.table_rgpd.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"]
      index_actions = { "by-citizen" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/rgpd/main.py rgpd_events: reads the request and its answers (GetItem, Query), writes the
# answer, its export pieces, the request's status and (when it completes) a request.completed outbox row
# with the event's idempotency record in one TransactWriteItems (PutItem); reads idempotency records (GetItem).
module "role_pic_rgpd_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-rgpd-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-rgpd-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "RgpdReadWrite"
      table_arn = module.table_rgpd.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- micro-apps switched by flags (FLAG) ----

# functions/flags/main.py flags_http: the snapshot (Query pk "flag"), a flag and its history (GetItem, Query),
# a switch (PutItem of the flag and its history entry) and a citizen's home (GetItem, PutItem), with their
# outbox rows and idempotency records; appends the access record of every read of a citizen's home.
module "role_pic_flags" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-flags"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-flags"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "AccessLogAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "FlagsReadWrite"
      table_arn = module.table_flags.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/flags/main.py flags_events: answers RGPD requests: a citizen's home arrangement (GetItem), erased
# (DeleteItem) with the rgpd.domain.answered outbox row (PutItem).
module "role_pic_flags_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-flags-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-flags-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "FlagsHomeErase"
      table_arn = module.table_flags.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:DeleteItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- global position (POS), interactions (INTX) and the access log (audit) ----

# functions/interaction/main.py interaction_http: reads interactions and the record one names (GetItem), writes
# one (and its record's item) with its interaction.logged outbox row and idempotency record (PutItem); appends
# access records (access log PutItem).
module "role_pic_interaction" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-interaction"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-interaction"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "AccessLogAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "InteractionReadWrite"
      table_arn = module.table_interaction.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/interaction/main.py interaction_events: the same unit of work, driven by CloudEvents; projects
# C360's links (citizen.updated): the record's item (GetItem, PutItem), its interactions read (BatchGetItem) and
# stamped with the golden record (UpdateItem); answers RGPD requests: a citizen's interactions (Query on
# by-citizen) and linked records (Query on by-linked-citizen), erased (DeleteItem) with the
# rgpd.domain.answered outbox row (PutItem).
module "role_pic_interaction_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-interaction-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-interaction-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "InteractionReadWrite"
      table_arn     = module.table_interaction.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
      index_actions = { "by-citizen" = ["dynamodb:Query"], "by-linked-citizen" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- cases (CASE) ----

# functions/case/main.py case_http: reads cases, configurations, agents and rosters (GetItem, BatchGetItem), a
# person's cases (Query on by-citizen), a queue's head (by-queue) and an agent's cases (by-assignee); writes a case,
# the agents' loads and presence and the rosters (PutItem, UpdateItem), a configuration's version, with the
# case.updated / notification.requested outbox rows and Idempotency-Key records, in one TransactWriteItems;
# appends access records (access log PutItem).
module "role_pic_case" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-case"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-case"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "AccessLogAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid           = "CaseReadWrite"
      table_arn     = module.table_case.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      index_actions = { "by-citizen" = ["dynamodb:Query"], "by-queue" = ["dynamodb:Query"], "by-assignee" = ["dynamodb:Query"], "by-resolved-month" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/case/main.py case_events: opens cases from case.requested (the same reads and writes as the HTTP
# side's opening); answers RGPD requests: a person's cases (Query on by-citizen), their ratings erased (PutItem)
# with the rgpd.domain.answered outbox row.
module "role_pic_case_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-case-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-case-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "CaseReadWrite"
      table_arn     = module.table_case.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      index_actions = { "by-citizen" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/case/sweep.py (Deployment pic-case-sweep): the cases due a look (Query on by-sla), each read and
# written back under its version with its case.sla.* outbox rows (GetItem, PutItem), the agents it frees or pushes
# to on an escalation (GetItem, BatchGetItem, PutItem, UpdateItem).
module "role_pic_case_sweep" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-case-sweep"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-case-sweep"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "CaseSweep"
      table_arn     = module.table_case.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      index_actions = { "by-sla" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- contact routing (CCAAS) ----

# functions/routing/main.py routing_http: reads contacts, calls, profiles, rosters, queues and flows (GetItem,
# BatchGetItem), a queue's waiting head (by-queue), an agent's contacts (by-agent), a queue's day (by-day); writes
# contacts, agents' loads and rosters, calls, configurations (PutItem, UpdateItem) with the contact.* /
# interaction.recorded / case.requested outbox rows and Idempotency-Key records, in one TransactWriteItems.
module "role_pic_routing" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-routing"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-routing"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid           = "RoutingReadWrite"
      table_arn     = module.table_routing.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      index_actions = { "by-queue" = ["dynamodb:Query"], "by-agent" = ["dynamodb:Query"], "by-day" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/routing/main.py routing_events: office tickets (GetItem, PutItem) with the interaction.recorded outbox
# row; answers RGPD requests: a person's contacts and tickets (Query on by-citizen), anonymised (PutItem).
module "role_pic_routing_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-routing-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-routing-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "RoutingReadWrite"
      table_arn     = module.table_routing.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      index_actions = { "by-citizen" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/routing/sweep.py (Deployment pic-routing-sweep): the contacts due a look (Query on by-next), each read
# and written back under its version with the agents it times out or offers to (GetItem, BatchGetItem, PutItem,
# UpdateItem) and the contact.* outbox rows.
module "role_pic_routing_sweep" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-routing-sweep"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-routing-sweep"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "RoutingSweep"
      table_arn     = module.table_routing.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      index_actions = { "by-next" = ["dynamodb:Query"], "by-queue" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- fines and taxes (PAY) ----

# functions/payment/main.py payment_http: reads a person's debts (Query on by-citizen) and prices each one in
# process (policies/payment); appends the access record of every read (access log PutItem). Payments, refunds,
# letters and banks' collection files write the payment table (debts claimed and paid, payments, their orders
# and receipt codes, letters: PutItem, conditioned) with their outbox rows and Idempotency-Key records, in one
# TransactWriteItems (which needs each item's own action).
module "role_pic_payment" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-payment"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-payment"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "AccessLogAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid           = "PaymentsReadWrite"
      table_arn     = module.table_payment.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:PutItem"]
      index_actions = { "by-citizen" = ["dynamodb:Query"], "by-day" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/payment/main.py payment_events: fine.issued and tax.receipt.issued (the debt read by key, GetItem,
# and written under its version, PutItem) with the event's dedupe record; answers RGPD requests: a person's
# debts (Query on by-citizen), erased past their period (DeleteItem) with the rgpd.domain.answered outbox row.
module "role_pic_payment_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-payment-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-payment-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "DebtsReadWrite"
      table_arn     = module.table_payment.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
      index_actions = { "by-citizen" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/position/main.py position_http: reads the projections and the restriction flag (Query) and the
# linked records' facts (BatchGetItem); appends the access record of every read (access log PutItem). Writes no
# position state.
module "role_pic_position" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-position"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-position"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "PositionRead"
      table_arn = module.table_position.table_arn
      actions   = ["dynamodb:Query", "dynamodb:BatchGetItem"]
    },
    {
      sid       = "AccessLogAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/web/main.py web_http: the citizen app reads and writes its sessions and barrier reports by key
# (GetItem with a consistent read, PutItem, DeleteItem); everything else it does through the public API.
module "role_pic_web" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-web"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-web"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "Sessions"
      table_arn = module.table_web.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/position/main.py position_events: folds events into the projections (GetItem, PutItem; a
# moved link deletes the old membership, DeleteItem) with the event's idempotency record; projects the
# restriction flag (GetItem, PutItem); answers RGPD requests: reads everything held (Query, BatchGetItem),
# erases it (DeleteItem) and stages the rgpd.domain.answered outbox row (PutItem).
module "role_pic_position_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-position-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-position-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "PositionReadWrite"
      table_arn = module.table_position.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchGetItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/audit/main.py audit_http: reads a citizen's access log (Query); appends the access record of the
# read itself (PutItem, condition: absent; functions/core/audit.py, ADR 0010).
module "role_pic_audit" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-audit"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-audit"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "AuditReadAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:Query", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/audit/main.py audit_events: answers RGPD requests with the event's idempotency record: reads a
# citizen's log (Query), erases only entries past their retention (DeleteItem) and stages the
# rgpd.domain.answered outbox row (PutItem). Every HTTP function appends to the log itself (AccessLogAppend).
module "role_pic_audit_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-audit-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-audit-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "AuditReadErase"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:Query", "dynamodb:DeleteItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- notifications and alerts (NOT) ----

# functions/notification/main.py notification_http: templates, notifications, bulk jobs, inbox and the
# projection (GetItem, Query, BatchGetItem); writes them with outbox rows and idempotency records in one
# TransactWriteItems (PutItem, UpdateItem); marks inbox messages read (UpdateItem). Contact points come from
# its own projection of C360's events: no access to C360's table.
# Appends the access record of every read of a citizen's data (access log PutItem, ADR 0010).
module "role_pic_notification" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-notification"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-notification"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "AccessLogAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "NotificationReadWrite"
      table_arn = module.table_notification.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/notification/main.py notification_events: requests, alert fan-out (Query on by-topic-zone),
# bulk chunks and the projections (CON's and C360's events: no access to C360's table); the same reads and
# writes as the HTTP side. Data-subject requests (functions/notification/rights.py): the notifications sent to
# the person are found by Query on by-recipient; an erasure deletes the profile (leaving its marker),
# subscriptions, in-app messages and notifications (DeleteItem, in the answer's TransactWriteItems or, past
# its size, before it).
module "role_pic_notification_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-notification-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-notification-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "NotificationReadWrite"
      table_arn     = module.table_notification.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
      index_actions = { "by-topic-zone" = ["dynamodb:Query"], "by-recipient" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/notification/main.py notification_delivery: reads a notification (GetItem), claims it and
# records the outcome with conditional writes (PutItem), writes in-app messages (PutItem) and bulk counters
# (UpdateItem) in the same transaction. Sending through SES/SNS needs ses:SendEmail / sns:Publish, granted
# where those adapters are chosen (PIC_NOTIFY_EMAIL=ses, PIC_NOTIFY_SMS=sns) by a policy attached outside
# this module, which only grants DynamoDB.
module "role_pic_notification_delivery" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-notification-delivery"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-notification-delivery"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "NotificationDeliver"
      table_arn = module.table_notification.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/notification/release.py (Deployment pic-notification-release): reads its cursor and the due
# markers of each minute (GetItem, Query), deletes released markers with their notification.due outbox rows
# in one TransactWriteItems (DeleteItem) and writes its cursor (PutItem).
module "role_pic_notification_release" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-notification-release"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-notification-release"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "NotificationRelease"
      table_arn = module.table_notification.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- knowledge base (KB) ----

# functions/kb/main.py kb_http and functions/kb/seed.py (Job pic-kb-seed, the same identity): reads articles, the
# catalogue and tallies (GetItem, BatchGetItem); writes an article with the catalogue's counter, a tally with its
# vote (PutItem, UpdateItem), with kb.article.updated outbox rows and Idempotency-Key records, in one
# TransactWriteItems. It reads no citizen's data: no access-log permission.
module "role_pic_kb" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-kb"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-kb"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "KbReadWrite"
      table_arn = module.table_kb.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- surveys (SURV) ----

# functions/survey/main.py survey_http: reads surveys, responses, the registry, invitation markers and the invited
# counter (GetItem, BatchGetItem; Query on by-kind for the list, by-survey for the results); writes a survey, the
# registry, a response with its respondent's marker, an invitation's marker and counter (PutItem, UpdateItem) with
# survey.answered / notification.batch.requested outbox rows and Idempotency-Key records, in one TransactWriteItems.
# Results are aggregates and the answering routes name no citizen's record: no access-log permission.
module "role_pic_survey" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-survey"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-survey"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid           = "SurveyReadWrite"
      table_arn     = module.table_survey.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      index_actions = { "by-kind" = ["dynamodb:Query"], "by-survey" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/survey/main.py survey_events: a cause event reads the registry and its surveys (GetItem, BatchGetItem)
# and the invitation's marker (GetItem), writes the marker, the counter or the delayed invitation (PutItem,
# UpdateItem) with the notification.batch.requested outbox row; answers RGPD requests: a person's responses and
# markers (Query on by-citizen), erased (DeleteItem) with the rgpd.domain.answered outbox row.
module "role_pic_survey_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-survey-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-survey-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "SurveyReadWrite"
      table_arn     = module.table_survey.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
      index_actions = { "by-citizen" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/survey/release.py (Deployment pic-survey-release): the delayed invitations due (Query on by-due, then
# BatchGetItem), each removed (DeleteItem) with its survey read (GetItem), the counter bumped (UpdateItem) and the
# notification.batch.requested outbox row, in one TransactWriteItems.
module "role_pic_survey_release" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-survey-release"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-survey-release"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "SurveyRelease"
      table_arn     = module.table_survey.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
      index_actions = { "by-due" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- the virtual assistant (BOT) ----

# functions/assistant/main.py assistant_http: reads a conversation (GetItem), the projection's counter (GetItem)
# and, when it moved, every projected article (Query on by-kind); writes a conversation under its version with a
# hand-over's case.requested outbox row and Idempotency-Key records, in one TransactWriteItems; appends access
# records (access log PutItem). Procedures go through the platform's API with the citizen's token, not the tables.
module "role_pic_assistant" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-assistant"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-assistant"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "AccessLogAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid           = "AssistantReadWrite"
      table_arn     = module.table_assistant.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:PutItem"]
      index_actions = { "by-kind" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/assistant/main.py assistant_events: projects kb.article.updated (GetItem, PutItem of the article and
# UpdateItem of the counter, in one TransactWriteItems); answers RGPD requests: a person's conversations (Query on
# by-citizen), erased (DeleteItem) with the rgpd.domain.answered outbox row.
module "role_pic_assistant_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-assistant-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-assistant-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "AssistantReadWrite"
      table_arn     = module.table_assistant.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
      index_actions = { "by-citizen" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- campaigns (CAMP) ----
# The export and the snapshots live in the campaign bucket (buckets.tf, PIC_CAMPAIGN_BUCKET). Each role below gets
# the object actions files.py makes (head_object and download_file: s3:GetObject; upload_file: s3:PutObject, its
# multipart parts included, and s3:AbortMultipartUpload when it fails) on the key prefixes its code touches, and the
# env's key through S3 for that bucket only. s3:ListBucket only where the export may not exist yet: without it
# S3 answers a HeadObject on a missing key 403 (files.py reads both as "absent"), which CloudTrail would log as
# a denial on every first count.

# The campaign domain's outbox relay (notification.batch.requested, rgpd.domain.answered).
module "role_pic_campaign_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-campaign-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-campaign-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/campaign/main.py campaign_http: segments and campaigns (GetItem, PutItem, Query of the deltas and the
# counters, by-kind for the lists), the audience Scan of the export; Idempotency-Key records.
# Files: reads the export (counts) and writes it when stale or asked fresh (handlers.ensure_export), writes and
# reads a segment's rebuild (snapshots/).
module "role_pic_campaign" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-campaign"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-campaign"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid           = "CampaignReadWrite"
      table_arn     = module.table_campaign.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan"]
      index_actions = { "by-kind" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]

  bucket_permissions = [
    {
      sid         = "CampaignFilesReadWrite"
      bucket_arn  = aws_s3_bucket.campaign.arn
      actions     = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
      prefixes    = [local.campaign_export, local.campaign_segments]
      list_bucket = true
      kms_key_arn = module.kms.key_arn
    },
  ]
}

# functions/campaign/main.py campaign_events: the audience projection (GetItem, PutItem), saved segments (by-kind)
# and their deltas (GetItem, PutItem, DeleteItem), the impact counters (UpdateItem ADD), RGPD erasure (DeleteItem).
# Files: reads a run's members (runs/) to attribute a conversion (handlers: columnar.find); writes none.
module "role_pic_campaign_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-campaign-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-campaign-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "CampaignReadWrite"
      table_arn     = module.table_campaign.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
      index_actions = { "by-kind" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]

  bucket_permissions = [
    {
      sid         = "CampaignRunsRead"
      bucket_arn  = aws_s3_bucket.campaign.arn
      actions     = ["s3:GetObject"]
      prefixes    = [local.campaign_runs]
      kms_key_arn = module.kms.key_arn
    },
  ]
}

# functions/campaign/dispatch.py (Deployment pic-campaign-dispatch): the active campaigns (Query on active), each
# read and written under its revision (GetItem, PutItem) with its batch's outbox row; the deltas (Query).
# Files: a run's start reads the export (and writes it when older than PIC_CAMPAIGN_EXPORT_SECONDS) and writes the
# run's members (runs/), which it then pages.
module "role_pic_campaign_dispatch" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-campaign-dispatch"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-campaign-dispatch"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "CampaignReadWrite"
      table_arn     = module.table_campaign.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan"]
      index_actions = { "active" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]

  bucket_permissions = [
    {
      sid         = "CampaignFilesReadWrite"
      bucket_arn  = aws_s3_bucket.campaign.arn
      actions     = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
      prefixes    = [local.campaign_export, local.campaign_runs]
      list_bucket = true
      kms_key_arn = module.kms.key_arn
    },
  ]
}

# functions/campaign/export.py (CronJob pic-campaign-export, every 15 minutes): the audience rows (a parallel Scan
# of the campaign table, aud# items only: handlers.ensure_export -> storage.scan_audience) written to the export
# (audience.parquet), so that a count reads a file at most ~20 minutes old instead of writing one in its request.
module "role_pic_campaign_export" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-campaign-export"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-campaign-export"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "AudienceScan"
      table_arn = module.table_campaign.table_arn
      actions   = ["dynamodb:Scan"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]

  bucket_permissions = [
    {
      sid         = "CampaignExportWrite"
      bucket_arn  = aws_s3_bucket.campaign.arn
      actions     = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
      prefixes    = [local.campaign_export]
      list_bucket = true
      kms_key_arn = module.kms.key_arn
    },
  ]
}

# ---- the wallet (WAL, issue 17) ----

# The wallet issuer's signing key: ECC_NIST_P256 SIGN_VERIFY (ES256), the private key never leaves KMS
# (functions.core.jose.KmsSigner; PIC_WALLET_KMS_KEY_ID). Asymmetric keys are not rotated by KMS: a new key is made
# and the old one's public JWK goes to PIC_WALLET_OLD_KEYS, so what it signed keeps verifying until it expires.
data "aws_caller_identity" "wallet" {}

data "aws_iam_policy_document" "wallet_signing_key" {
  #checkov:skip=CKV_AWS_109:a key policy's Resource "*" is the key itself, not every resource
  #checkov:skip=CKV_AWS_111:a key policy's Resource "*" is the key itself, not every resource
  #checkov:skip=CKV_AWS_356:a key policy's Resource "*" is the key itself, not every resource
  statement {
    sid       = "AccountControlThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.wallet.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "wallet_signing" {
  #checkov:skip=CKV_AWS_7:KMS does not rotate asymmetric keys; rotation is a new key and the old public key kept
  description              = "PIC ${var.environment}: the wallet's credential and status-list signing key (ES256)"
  key_usage                = "SIGN_VERIFY"
  customer_master_key_spec = "ECC_NIST_P256"
  deletion_window_in_days  = var.kms_deletion_window_in_days
  policy                   = data.aws_iam_policy_document.wallet_signing_key.json
}

resource "aws_kms_alias" "wallet_signing" {
  name          = "alias/pic/${var.environment}/wallet-signing"
  target_key_id = aws_kms_key.wallet_signing.key_id
}

# functions/wallet/main.py wallet_http: reads card types, facts, offers, tokens, nonces, cards and status lists
# (GetItem, BatchGetItem; Query on by-citizen for the citizen's cards); writes offers, tokens, nonces, cards, lists
# (PutItem) and consumes a nonce (DeleteItem) with card.* / card.granted outbox rows and Idempotency-Key records, in
# one TransactWriteItems; appends the access record of a read of the citizen's cards; signs with the KMS key.
module "role_pic_wallet" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-wallet"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-wallet"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "AccessLogAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid           = "WalletReadWrite"
      table_arn     = module.table_wallet.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
      index_actions = { "by-citizen" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

data "aws_iam_policy_document" "wallet_signing" {
  statement {
    sid       = "WalletSign"
    actions   = ["kms:Sign", "kms:GetPublicKey"]
    resources = [aws_kms_key.wallet_signing.arn]
  }
}

resource "aws_iam_role_policy" "wallet_signing" {
  name   = "${var.environment}-pic-wallet-signing"
  role   = module.role_pic_wallet.role_name
  policy = data.aws_iam_policy_document.wallet_signing.json
}

# functions/wallet/main.py wallet_events: projects citizen.updated and card.granted into the facts (GetItem,
# PutItem under their version); a card the new facts no longer support is revoked in the same unit (its cards by
# Query on by-citizen, the card types by BatchGetItem, the card and its lists PutItem, card.revoked in the outbox);
# answers RGPD requests: a person's cards (Query on by-citizen) and facts (GetItem),
# the facts erased (DeleteItem) with the rgpd.domain.answered outbox row.
module "role_pic_wallet_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-wallet-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-wallet-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "WalletReadWrite"
      table_arn     = module.table_wallet.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
      index_actions = { "by-citizen" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_wallet_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-wallet-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-wallet-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- verifier (WAL, issue 17) ----

# functions/verifier/main.py verifier_http: reads a request (GetItem), writes it new or answered under its revision
# and the read of a verdict (PutItem). A new request is not idempotent by key: sent twice it makes two requests, the
# agent shows one. No events, no access log (a verdict names no citizen's record). Egress to the trusted issuers'
# metadata and status lists (HTTPS).
module "role_pic_verifier" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-verifier"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-verifier"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "VerifierReadWrite"
      table_arn = module.table_verifier.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- ZBE authorisations (issue 18) ----

# functions/zbe/main.py zbe_http: reads a vehicle and an application (GetItem), a person's applications (Query on
# by-citizen), the review queue and the plate list (Query on by-state); writes an application under its version
# (PutItem) with the position, decision, notice and card.granted outbox rows and the Idempotency-Key record, in one
# TransactWriteItems; appends the access records of the applications, the queue and the plate list it shows.
module "role_pic_zbe" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-zbe"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-zbe"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "AccessLogAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid           = "ZbeReadWrite"
      table_arn     = module.table_zbe.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:PutItem"]
      index_actions = { "by-citizen" = ["dynamodb:Query"], "by-state" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/zbe/main.py zbe_events: projects vehicle.registered (GetItem, PutItem under its version); answers RGPD
# requests: a person's applications (Query on by-citizen), those retention lets go erased (DeleteItem) with the
# rgpd.domain.answered outbox row.
module "role_pic_zbe_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-zbe-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-zbe-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "ZbeReadWrite"
      table_arn     = module.table_zbe.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
      index_actions = { "by-citizen" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_zbe_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-zbe-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-zbe-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- bookings (issue 18) ----

# functions/booking/main.py booking_http: reads slots (GetItem, BatchGetItem for a resource's slots), bookings and
# people (GetItem; Query on by-citizen for the citizen's bookings); writes the slot, the bookings and the people
# touched under their versions (PutItem) with booking.* / tax.receipt.issued / position / notification outbox rows
# and the Idempotency-Key record, in one TransactWriteItems; appends the access record of a read of bookings.
module "role_pic_booking" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-booking"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-booking"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "AccessLogAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid           = "BookingReadWrite"
      table_arn     = module.table_booking.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem"]
      index_actions = { "by-citizen" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/booking/main.py booking_events: tax.receipt.paid confirms a held place (GetItem of the booking and its
# slot, PutItem under their versions, booking.confirmed / position / notification outbox rows); citizen.updated
# projects the Padrón facts (GetItem, PutItem); answers RGPD requests (Query on by-citizen, GetItem; the facts
# erased by DeleteItem) with the rgpd.domain.answered outbox row. The holds sweep (functions/booking/sweep.py, the
# same role) queries by-hold.
module "role_pic_booking_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-booking-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-booking-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "BookingReadWrite"
      table_arn     = module.table_booking.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
      index_actions = { "by-citizen" = ["dynamodb:Query"], "by-hold" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_booking_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-booking-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-booking-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/booking/sweep.py (Deployment pic-booking-sweep): the holds due (Query on by-hold), each slot settled: the
# slot, its bookings and people read (GetItem) and written under their versions (PutItem) with booking.cancelled /
# position / tax.receipt.issued / notification outbox rows, in one TransactWriteItems.
module "role_pic_booking_sweep" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-booking-sweep"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-booking-sweep"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "BookingSweep"
      table_arn     = module.table_booking.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:PutItem"]
      index_actions = { "by-hold" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- events near me (GEO, issue 18) ----

# functions/agenda/main.py agenda_http: reads events, cell keys, reports, zones and saved events (GetItem,
# BatchGetItem); writes an ingested or withdrawn event with its cell keys (PutItem, UpdateItem), a report, zones and
# saved events, with agenda.event.published / zones.changed outbox rows and Idempotency-Key records, in one
# TransactWriteItems; appends the access record of a read of a person's zones or agenda.
module "role_pic_agenda" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-agenda"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-agenda"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "AccessLogAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid           = "AgendaReadWrite"
      table_arn     = module.table_agenda.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      index_actions = { "by-kind" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/agenda/main.py agenda_events: projects citizen.updated (home) and consent.changed (location) into a
# person's zones (GetItem, PutItem) with the zones.changed outbox row; answers RGPD requests: the zones and saved
# events read (GetItem) and erased (DeleteItem) with the rgpd.domain.answered outbox row.
module "role_pic_agenda_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-agenda-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-agenda-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "AgendaReadWrite"
      table_arn = module.table_agenda.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_agenda_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-agenda-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-agenda-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- incidents on the public way (Avisos Madrid, Open311; issue 18) ----

# functions/incident/main.py incident_http: reads reports, tokens, clients and photos (GetItem, BatchGetItem; Query on
# by-near for duplicate suggestions, by-month for Open311's search, by-citizen for a person's reports); writes a report,
# its token, a photo, a follower's marker (PutItem) with incident.reported / incident.updated / case.requested /
# notification.requested / position.item.upserted outbox rows and Idempotency-Key records, in one TransactWriteItems.
# A person's reports are personal data: every read of them is appended to the access log.
module "role_pic_incident" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-incident"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-incident"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid           = "IncidentReadWrite"
      table_arn     = module.table_incident.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem"]
      index_actions = { "by-near" = ["dynamodb:Query"], "by-month" = ["dynamodb:Query"], "by-citizen" = ["dynamodb:Query"] }
    },
    {
      sid       = "AccessLogAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/incident/main.py incident_events: answers RGPD requests: a person's reports and follows (Query on
# by-citizen, BatchGetItem), the person taken out of each (PutItem under the revision, DeleteItem of a follower's
# marker) with the rgpd.domain.answered outbox row.
module "role_pic_incident_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-incident-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-incident-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "IncidentReadWrite"
      table_arn     = module.table_incident.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
      index_actions = { "by-citizen" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_incident_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-incident-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-incident-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- recommendations (REC, issue 18) ----

# functions/recommend/main.py recommend_http: reads the citizen's profile (GetItem) and the agenda's events of their
# zones (Query on by-district); writes the feedback into the profile under its version (PutItem) with the
# Idempotency-Key record, in one TransactWriteItems (the kernel may stage outbox rows with any commit); appends the access record of a read of the suggestions.
module "role_pic_recommend" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-recommend"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-recommend"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "AccessLogAppend"
      table_arn = module.table_audit.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid           = "RecommendReadWrite"
      table_arn     = module.table_recommend.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:PutItem"]
      index_actions = { "by-district" = ["dynamodb:Query"] }
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# functions/recommend/main.py recommend_events: projects the facts (consent mode, RGPD flags, C360's profile, IBI
# receipts and payments, direct debits, vehicles, cards, bookings, zones) into the profile and the agenda's events
# (GetItem, PutItem under the version read); answers RGPD requests: the profile exported or erased (DeleteItem)
# with the rgpd.domain.answered outbox row.
module "role_pic_recommend_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-recommend-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-recommend-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "RecommendReadWrite"
      table_arn = module.table_recommend.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = module.table_outbox.table_arn
      actions   = ["dynamodb:PutItem"]
    },
    {
      sid       = "IdempotencyReadWrite"
      table_arn = module.table_idempotency.table_arn
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

module "role_pic_recommend_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-recommend-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-recommend-relay"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = module.table_outbox.table_arn
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- the published contracts (issue 19, C1) ----

# functions/apidocs/main.py apidocs_http: serves the documentation pages and schemas/ from the image; no table of its
# own, no bucket; only the kernel's count of an API consumer's request (UpdateItem on table consumers, ADR 0035).
module "role_pic_apidocs" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-apidocs"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-apidocs"
  permissions_boundary_arn = var.permissions_boundary_arn

  # a client's token on its pages is counted in its quota like on any route (functions/core/quota.py, ADR 0035)
  table_permissions = [
    {
      sid       = "ConsumerQuota"
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- API consumers (issue 19, docs/decisions/0035) ----

# functions/consumers/main.py consumers_http: the consumers' usage for platform administrators (Query on the
# kernel's table consumers); its own requests may be a client's too (the quota's UpdateItem).
module "role_pic_consumers" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-consumers"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-consumers"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumersUsage"
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:Query", "dynamodb:UpdateItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]
}

# ---- legacy batch adapters (INTG, issue 19) ----

# functions/intake/main.py intake_http: a submitted file is put in the inbox bucket (intake.tf) at <system>/<name>
# (s3:PutObject; s3:ListBucket to pick a free name) with its queued report (GetItem, PutItem); the reports read
# (GetItem, the by-received index). It posts no event: the inbox workers do, each as its system.
module "role_pic_intake" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-intake"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-intake"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid           = "IntakeReports"
      table_arn     = module.table_intake.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:PutItem"]
      index_actions = { "by-received" = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]

  bucket_permissions = [
    {
      sid         = "IntakeInboxPut"
      bucket_arn  = aws_s3_bucket.intake.arn
      actions     = ["s3:PutObject", "s3:AbortMultipartUpload"]
      prefixes    = [for s in local.intake_systems : "${s}/"]
      list_bucket = true
      kms_key_arn = module.kms.key_arn
    },
  ]
}
