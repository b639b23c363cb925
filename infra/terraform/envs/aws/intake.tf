# ---- legacy batch adapters (INTG, issue 19; docs/decisions/0032-legacy-batch-adapters.md) ----
#
# The inbox is a bucket: an area system (or POST /v1/intake/<system>/files, role_pic_intake in functions.tf) puts a
# file at <system>/<name>; S3 tells that system's queue (object created, prefix <system>/); the system's worker
# (infra/k8s/base/deployment-legacy-<system>.yaml, running AS the system's ServiceAccount legacy-<system>, so
# the broker admits its events as the system's) reads the message, loads the file (functions/intake/inbox.py) and
# moves it to <system>/done/ or <system>/refused/ with its report and dead letters beside it.
# PERSONAL DATA: the files are the systems' records of people (the Padrón's extract): encrypted with the env's key,
# never public, TLS only; loaded files are kept 30 days for their reports' sake, then expire (RGPD art. 5.1.e).

locals {
  intake_systems     = ["padron", "tributos", "multas", "cita-previa"]
  intake_bucket_name = "${var.environment}-pic-intake-${data.aws_caller_identity.current.account_id}"
}

resource "aws_s3_bucket" "intake" {
  #checkov:skip=CKV_AWS_18:the env has no access-log bucket; object reads are CloudTrail data events where the account records them
  #checkov:skip=CKV_AWS_144:an inbox of files the systems still hold: a copy in a second Region would be personal data outside Spain for nothing
  bucket        = local.intake_bucket_name
  force_destroy = false

  tags = {
    "pic.madrid.es/domain"        = "intake"
    "pic.madrid.es/personal-data" = "yes"
  }
}

resource "aws_s3_bucket_ownership_controls" "intake" {
  bucket = aws_s3_bucket.intake.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "intake" {
  bucket                  = aws_s3_bucket.intake.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "intake" {
  bucket = aws_s3_bucket.intake.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "intake" {
  bucket = aws_s3_bucket.intake.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.kms.key_arn
    }
    bucket_key_enabled = true
  }
}

data "aws_iam_policy_document" "intake_bucket" {
  statement {
    sid       = "DenyWithoutTls"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.intake.arn, "${aws_s3_bucket.intake.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "intake" {
  bucket     = aws_s3_bucket.intake.id
  policy     = data.aws_iam_policy_document.intake_bucket.json
  depends_on = [aws_s3_bucket_public_access_block.intake]
}

# Loaded and refused files (and their reports) expire after 30 days; a noncurrent version after 7.
resource "aws_s3_bucket_lifecycle_configuration" "intake" {
  bucket = aws_s3_bucket.intake.id

  dynamic "rule" {
    for_each = { for pair in setproduct(local.intake_systems, ["done", "refused"]) : "${pair[0]}-${pair[1]}" => pair }
    content {
      id     = rule.key
      status = "Enabled"
      filter {
        prefix = "${rule.value[0]}/${rule.value[1]}/"
      }
      expiration {
        days = 30
      }
    }
  }

  rule {
    id     = "noncurrent"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# One queue per system: its worker wakes on its own files only (S3 event notifications, "object created").
resource "aws_sqs_queue" "intake" {
  for_each                   = toset(local.intake_systems)
  name                       = "${var.environment}-pic-intake-${each.key}"
  kms_master_key_id          = module.kms.key_arn
  visibility_timeout_seconds = 900 # a 100,000-record extract loads in minutes (docs/benchmarks.md)
  message_retention_seconds  = 345600
}

data "aws_iam_policy_document" "intake_queue" {
  for_each = aws_sqs_queue.intake
  statement {
    sid       = "S3ObjectCreated"
    actions   = ["sqs:SendMessage"]
    resources = [each.value.arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.intake.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "intake" {
  for_each  = aws_sqs_queue.intake
  queue_url = each.value.id
  policy    = data.aws_iam_policy_document.intake_queue[each.key].json
}

resource "aws_s3_bucket_notification" "intake" {
  bucket = aws_s3_bucket.intake.id

  dynamic "queue" {
    for_each = aws_sqs_queue.intake
    content {
      id            = "intake-${queue.key}"
      queue_arn     = queue.value.arn
      events        = ["s3:ObjectCreated:*"]
      filter_prefix = "${queue.key}/"
    }
  }

  depends_on = [aws_sqs_queue_policy.intake]
}

# The workers: one IRSA role per system, trusted by that system's ServiceAccount (legacy-<system>), reading its
# prefix, moving files to done/ and refused/, its queue's messages, the ledger and the reports. Spelt out per system
# (no for_each) so that the contract tests read each role's service account as a literal.

module "role_legacy_padron_intake" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-legacy-padron"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "legacy-padron"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "IntakeLedgerAndReports"
      table_arn     = module.table_intake.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"]
      index_actions = { "by-received" = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]

  bucket_permissions = [
    {
      sid         = "IntakeInboxMove"
      bucket_arn  = aws_s3_bucket.intake.arn
      actions     = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
      prefixes    = ["padron/"]
      list_bucket = true
      kms_key_arn = module.kms.key_arn
    },
  ]
}

module "role_legacy_tributos_intake" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-legacy-tributos"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "legacy-tributos"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "IntakeLedgerAndReports"
      table_arn     = module.table_intake.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"]
      index_actions = { "by-received" = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]

  bucket_permissions = [
    {
      sid         = "IntakeInboxMove"
      bucket_arn  = aws_s3_bucket.intake.arn
      actions     = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
      prefixes    = ["tributos/"]
      list_bucket = true
      kms_key_arn = module.kms.key_arn
    },
  ]
}

module "role_legacy_multas_intake" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-legacy-multas"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "legacy-multas"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "IntakeLedgerAndReports"
      table_arn     = module.table_intake.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"]
      index_actions = { "by-received" = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]

  bucket_permissions = [
    {
      sid         = "IntakeInboxMove"
      bucket_arn  = aws_s3_bucket.intake.arn
      actions     = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
      prefixes    = ["multas/"]
      list_bucket = true
      kms_key_arn = module.kms.key_arn
    },
  ]
}

module "role_legacy_cita_previa_intake" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-legacy-cita-previa"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "legacy-cita-previa"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid           = "IntakeLedgerAndReports"
      table_arn     = module.table_intake.table_arn
      actions       = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"]
      index_actions = { "by-received" = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [module.kms.key_arn]

  bucket_permissions = [
    {
      sid         = "IntakeInboxMove"
      bucket_arn  = aws_s3_bucket.intake.arn
      actions     = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
      prefixes    = ["cita-previa/"]
      list_bucket = true
      kms_key_arn = module.kms.key_arn
    },
  ]
}

locals {
  intake_worker_roles = {
    "padron"      = module.role_legacy_padron_intake.role_name
    "tributos"    = module.role_legacy_tributos_intake.role_name
    "multas"      = module.role_legacy_multas_intake.role_name
    "cita-previa" = module.role_legacy_cita_previa_intake.role_name
  }
}

resource "aws_iam_role_policy" "intake_queue" {
  for_each = aws_sqs_queue.intake
  name     = "intake-queue"
  role     = local.intake_worker_roles[each.key]
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ReceiveOwnQueue"
      Effect   = "Allow"
      Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
      Resource = each.value.arn
    }]
  })
}


output "intake_bucket" {
  description = "The legacy adapters' inbox bucket (PIC_INTAKE_BUCKET)."
  value       = aws_s3_bucket.intake.id
}

output "intake_queues" {
  description = "Each system's queue of the inbox's object-created notifications (PIC_INTAKE_QUEUE_URL of the Deployment legacy-<system>)."
  value       = { for k, q in aws_sqs_queue.intake : k => q.id }
}
