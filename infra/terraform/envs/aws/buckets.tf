# ---- campaigns (CAMP): the domain's object store ----

# functions/campaign/files.py S3Files (PIC_CAMPAIGN_BUCKET): the files DuckDB reads, shared by the workloads that
# write and read them (each pod keeps a scratch copy, re-downloaded when the object is newer):
#   audience.parquet                  the columnar export of the audience projection: written every 15 minutes by
#                                     the CronJob pic-campaign-export, again by pic-campaign (a count asking for a
#                                     fresh one, a segment's rebuild) and by pic-campaign-dispatch (a run's start)
#   runs/<campaign>/<run>.parquet     a run's members (handlers._start_run), paged by the dispatcher and read by
#                                     pic-campaign-events to attribute conversions within the campaign's window
#   snapshots/<segment>/<at>.parquet  a saved segment's full rebuild (handlers.rebuild_segment)
# PERSONAL DATA: every file holds one row per citizen (pseudonymous citizen id, district, language, age, channels,
# consents, relationships with the areas): encrypted with the env's customer-managed key, never public, TLS only,
# and kept no longer than it is used (lifecycle below). An erased person leaves the export at its next write
# (15 minutes) and the run and segment files when they expire.

data "aws_caller_identity" "current" {}

locals {
  # Account-scoped (bucket names are global): "<environment>-pic-campaign-<account>", at most 41 characters.
  campaign_bucket_name = "${var.environment}-pic-campaign-${data.aws_caller_identity.current.account_id}"

  # What each workload reads and writes (files.py: head_object and download_file are s3:GetObject, upload_file is
  # s3:PutObject, its multipart parts included, and s3:AbortMultipartUpload when an upload fails).
  campaign_export   = "audience.parquet"
  campaign_runs     = "runs/"
  campaign_segments = "snapshots/"
}

resource "aws_s3_bucket" "campaign" {
  #checkov:skip=CKV_AWS_18:the env has no access-log bucket; object reads are CloudTrail data events where the account records them
  #checkov:skip=CKV_AWS_144:derived files, rewritten from the tables (point-in-time recovery): a copy in a second Region would be personal data outside Spain for nothing
  #checkov:skip=CKV2_AWS_62:nothing consumes object events: the files are read by the workloads that wrote them
  bucket = local.campaign_bucket_name

  # Deletion protection's counterpart: `terraform destroy` refuses a bucket with objects in it.
  force_destroy = false

  tags = {
    "pic.madrid.es/domain"        = "campaign"
    "pic.madrid.es/personal-data" = "pseudonymised"
  }
}

resource "aws_s3_bucket_ownership_controls" "campaign" {
  bucket = aws_s3_bucket.campaign.id

  # No ACLs: the bucket policy and the roles decide everything.
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "campaign" {
  bucket = aws_s3_bucket.campaign.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Versioning: an overwritten export or a deleted file can be restored for a week (noncurrent versions, below).
resource "aws_s3_bucket_versioning" "campaign" {
  bucket = aws_s3_bucket.campaign.id

  versioning_configuration {
    status = "Enabled"
  }
}

# The tables' key (personal data at rest under one customer-managed key); the S3 Bucket Key makes S3 ask KMS once
# per bucket and period, not once per object, which the export's 15-minute rewrites would otherwise multiply.
resource "aws_s3_bucket_server_side_encryption_configuration" "campaign" {
  bucket = aws_s3_bucket.campaign.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.kms.key_arn
    }
    bucket_key_enabled = true
  }
}

data "aws_iam_policy_document" "campaign_bucket" {
  statement {
    sid       = "DenyWithoutTls"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.campaign.arn, "${aws_s3_bucket.campaign.arn}/*"]

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

  statement {
    sid       = "DenyOldTls"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.campaign.arn, "${aws_s3_bucket.campaign.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}

resource "aws_s3_bucket_policy" "campaign" {
  bucket = aws_s3_bucket.campaign.id
  policy = data.aws_iam_policy_document.campaign_bucket.json

  # A policy on a bucket whose public access block is not yet in place can be refused as public.
  depends_on = [aws_s3_bucket_public_access_block.campaign]
}

# Kept no longer than used (RGPD art. 5.1.e):
# - a run's members are read to attribute conversions for the campaign's window, at most 90 days
#   (functions/campaign/service.py Conversion.days, le=90; tests/contract/test_terraform.py checks the margin), and
#   by the dispatcher while the run lasts: they expire `campaign_run_retention_days` after the run began;
# - a segment's rebuild keeps its counts in the table; its file is not read again and expires likewise;
# - the export is rewritten every 15 minutes: its current version stays, overwritten ones go after 7 days, as does
#   any noncurrent version, and the delete markers expiry leaves behind;
# - an upload that died half way (a pod killed mid-multipart) is aborted after a day.
resource "aws_s3_bucket_lifecycle_configuration" "campaign" {
  bucket = aws_s3_bucket.campaign.id

  rule {
    id     = "run-snapshots"
    status = "Enabled"

    filter {
      prefix = local.campaign_runs
    }

    expiration {
      days = var.campaign_run_retention_days
    }
  }

  rule {
    id     = "segment-snapshots"
    status = "Enabled"

    filter {
      prefix = local.campaign_segments
    }

    expiration {
      days = var.campaign_run_retention_days
    }
  }

  rule {
    id     = "housekeeping"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 7
    }

    expiration {
      expired_object_delete_marker = true
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  # The rules apply to versions, so versioning must be on first.
  depends_on = [aws_s3_bucket_versioning.campaign]
}
