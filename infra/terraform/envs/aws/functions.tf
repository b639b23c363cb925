# One IAM role per function (Knative Service or Deployment in infra/k8s/base), assumed through IRSA by the
# function's service account: same name as the function, in the PIC namespace. Each grants the DynamoDB
# calls the function's code makes, on its tables only, and the tables' key only through DynamoDB.
# tests/contract/test_terraform.py checks that every function has its role.

# functions/consent/main.py consent_http: reads state/history/preferences/subscriptions (GetItem, Query),
# writes them and deletes subscriptions in one TransactWriteItems with an outbox row and an idempotency
# record (PutItem, DeleteItem), reads idempotency records (GetItem).
module "role_pic_consent" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-consent"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-consent"
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
# outbox rows and the Idempotency-Key record (GetItem, PutItem).
module "role_pic_citizen" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-citizen"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-citizen"
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

# functions/citizen/main.py citizen_events: reads pointers, golden records, links and the candidates of the
# record's blocks (GetItem, Query, BatchGetItem), and writes golden record, link, pointers, block items
# (PutItem; DeleteItem for blocks a changed record leaves), a review and a citizen.updated outbox row with
# the event's idempotency record in one TransactWriteItems; reads idempotency records (GetItem).
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

# functions/core/relay.py: polls the outbox's pending index (Query on the index only), marks rows sent
# (BatchWriteItem) and records failed attempts (UpdateItem).
module "role_pic_outbox_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-outbox-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-outbox-relay"
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
