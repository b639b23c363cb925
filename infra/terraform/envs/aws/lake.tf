# ---- the data platform's exports (LAKE, issue 19, ADR 0036) ----
#
# functions/lake: pseudonymised Delta Lake tables of the platform's facts in their own bucket, under their own KMS key
# (the analytics platform's engines, Athena, EMR or Spark on EKS, are granted this key and bucket, never the tables'
# key), the staging table `lake`, the pseudonymisation key in Secrets Manager, and a role per workload.
#
#   lake/tables/<table>/day=<date>/*.parquet       the facts (one table per exported group of types)
#   lake/tables/<table>/snapshot_date=<date>/...   the daily snapshots (cases_current)
#   lake/tables/<table>/_delta_log/                each table's commits (Delta protocol)
#   lake/catalogue.json                            the data catalogue (functions/lake/service.py catalogue)

locals {
  # Account-scoped (bucket names are global): "<environment>-pic-lake-<account>".
  lake_bucket_name = "${var.environment}-pic-lake-${data.aws_caller_identity.current.account_id}"
  lake_prefix      = "lake/"
}

module "kms_lake" {
  source = "../../modules/kms-key"

  description             = "PIC ${var.environment}: the data platform's pseudonymised exports and their pseudonymisation key"
  aliases                 = ["pic/${var.environment}/lake"]
  deletion_window_in_days = var.kms_deletion_window_in_days
  enable_key_rotation     = true
  key_administrators      = var.kms_key_administrators
}

# functions/lake/storage.py LakeItem: pk + sk. Staged rows ("stage#<n>" / <event key>, deleted by the flusher within
# seconds), erasure markers ("erased#<pseudonym>" / "-", kept: ADR 0012), pending erasures ("pending" / <pseudonym>)
# and the writers' lease ("lease" / "writer"). No index, no TTL.
module "table_lake" {
  source = "../../modules/dynamodb-table"

  name      = "${var.table_prefix}lake"
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

resource "aws_s3_bucket" "lake" {
  #checkov:skip=CKV_AWS_18:the env has no access-log bucket; object reads are CloudTrail data events where the account records them
  #checkov:skip=CKV_AWS_144:pseudonymised personal data: a copy in a second Region would be personal data outside Spain; the tables are rebuilt from the facts' domains
  #checkov:skip=CKV2_AWS_62:nothing consumes object events: the tables are read through their Delta logs
  #checkov:skip=CKV_AWS_21:no versioning on purpose: an erasure must remove the files physically (RGPD art. 17), which a noncurrent version would keep; Delta's log versions the tables
  bucket = local.lake_bucket_name

  force_destroy = false

  tags = {
    "pic.madrid.es/domain"        = "lake"
    "pic.madrid.es/personal-data" = "pseudonymised"
  }
}

resource "aws_s3_bucket_ownership_controls" "lake" {
  bucket = aws_s3_bucket.lake.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "lake" {
  bucket = aws_s3_bucket.lake.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.kms_lake.key_arn
    }
    bucket_key_enabled = true
  }
}

data "aws_iam_policy_document" "lake_bucket" {
  statement {
    sid       = "DenyWithoutTls"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.lake.arn, "${aws_s3_bucket.lake.arn}/*"]

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

resource "aws_s3_bucket_policy" "lake" {
  bucket = aws_s3_bucket.lake.id
  policy = data.aws_iam_policy_document.lake_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.lake]
}

# Retention (RGPD art. 5.1.e) is the tables' own: the daily snapshot deletes partitions older than the catalogue's
# retention through Delta (an object lifecycle expiring files would corrupt a table whose log still lists them).
# The lifecycle only aborts uploads that died half way.
resource "aws_s3_bucket_lifecycle_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id

  rule {
    id     = "housekeeping"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# The pseudonymisation key (32 random bytes, base64): created empty here and set by an operator
# (`aws secretsmanager put-secret-value`), so it never sits in Terraform's state. Not rotated automatically: a new key
# changes every pseudonym, which is a new export (ADR 0036), not a routine rotation.
resource "aws_secretsmanager_secret" "lake_pseudonym_key" {
  #checkov:skip=CKV2_AWS_57:rotation changes every pseudonym (tables no longer join): done deliberately, with a new export
  name        = "pic/${var.environment}/lake/pseudonym-key"
  description = "PIC ${var.environment}: HMAC-SHA256 key of the data platform's pseudonyms (functions/lake/keys.py)"
  kms_key_id  = module.kms_lake.key_arn
}

data "aws_iam_policy_document" "lake_pseudonym_key" {
  statement {
    sid       = "ReadThePseudonymKey"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.lake_pseudonym_key.arn]
  }

  statement {
    sid       = "DecryptItThroughSecretsManager"
    actions   = ["kms:Decrypt"]
    resources = [module.kms_lake.key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.region}.amazonaws.com"]
    }
  }
}

# Only what computes pseudonyms reads the key: the event function (a fact's row) and the HTTP function (the RGPD
# answer is the event function's; the HTTP function builds the same ports).
resource "aws_iam_role_policy" "lake_pseudonym_key" {
  for_each = {
    lake        = module.role_pic_lake.role_name
    lake_events = module.role_pic_lake_events.role_name
  }

  name   = "pseudonym-key"
  role   = each.value
  policy = data.aws_iam_policy_document.lake_pseudonym_key.json
}

# The lake domain's outbox relay (rgpd.domain.answered).
module "role_pic_lake_relay" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-lake-relay"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-lake-relay"
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

# functions/lake/main.py lake_events: one PutItem per exported fact (a staged row); the RGPD answer's marker and
# pending erasure (TransactWriteItems of PutItems) with its outbox row and dedupe record.
module "role_pic_lake_events" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-lake-events"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-lake-events"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "LakeStage"
      table_arn = module.table_lake.table_arn
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

# The writers of the tables: the flusher (Deployment pic-lake-flusher), the snapshot (CronJob pic-lake-snapshot) and
# the flush route (pic-lake). The staged rows (Query, BatchWriteItem deletes), the markers (BatchGetItem), the pending
# erasures, the lease (PutItem, DeleteItem under conditions); the bucket's objects under lake/ (Delta reads, writes
# new files and commits, vacuum deletes), the lake's key through S3 only.
module "role_pic_lake_flusher" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-lake-flusher"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-lake-flusher"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "LakeFlush"
      table_arn = module.table_lake.table_arn
      actions   = ["dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]

  bucket_permissions = [
    {
      sid         = "LakeTablesReadWrite"
      bucket_arn  = aws_s3_bucket.lake.arn
      actions     = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
      prefixes    = [local.lake_prefix]
      list_bucket = true
      kms_key_arn = module.kms_lake.key_arn
    },
  ]
}

module "role_pic_lake_snapshot" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-lake-snapshot"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-lake-snapshot"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "LakeLease"
      table_arn = module.table_lake.table_arn
      actions   = ["dynamodb:PutItem", "dynamodb:DeleteItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]

  bucket_permissions = [
    {
      sid         = "LakeTablesReadWrite"
      bucket_arn  = aws_s3_bucket.lake.arn
      actions     = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
      prefixes    = [local.lake_prefix]
      list_bucket = true
      kms_key_arn = module.kms_lake.key_arn
    },
  ]
}

# functions/lake/main.py lake_http: the catalogue (no store), a partition's summary (the bucket, read), a flush now
# (as the flusher).
module "role_pic_lake" {
  source = "../../modules/function-iam-role"

  name                     = "${var.environment}-pic-lake"
  oidc_provider_arn        = local.oidc_provider_arn
  namespace                = var.namespace
  service_account          = "pic-lake"
  permissions_boundary_arn = var.permissions_boundary_arn

  table_permissions = [
    {
      sid       = "ConsumerQuota" # a client's request counted in its quota (functions/core/quota.py, ADR 0035)
      table_arn = module.table_consumers.table_arn
      actions   = ["dynamodb:UpdateItem"]
    },
    {
      sid       = "LakeFlush"
      table_arn = module.table_lake.table_arn
      actions   = ["dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    },
  ]
  kms_key_arns = [module.kms.key_arn]

  bucket_permissions = [
    {
      sid         = "LakeTablesReadWrite"
      bucket_arn  = aws_s3_bucket.lake.arn
      actions     = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
      prefixes    = [local.lake_prefix]
      list_bucket = true
      kms_key_arn = module.kms_lake.key_arn
    },
  ]
}
