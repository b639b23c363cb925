data "aws_region" "current" {
  count = var.create ? 1 : 0
}

locals {
  # arn:aws:iam::<account>:oidc-provider/<issuer host and path>: the issuer is the condition key prefix.
  oidc_issuer = element(split(":oidc-provider/", var.oidc_provider_arn), 1)
  region      = try(data.aws_region.current[0].name, "")

  # Object actions apply to the listed key prefixes only (the whole bucket when none is listed).
  bucket_objects = [
    for p in var.bucket_permissions : merge(p, {
      resources = length(p.prefixes) > 0 ? [for prefix in sort(p.prefixes) : "${p.bucket_arn}/${prefix}*"] : ["${p.bucket_arn}/*"]
    }) if length(p.actions) > 0
  ]
  # Writing an SSE-KMS object needs a data key (GenerateDataKey) and, for a multipart upload's parts and any
  # read, Decrypt; a reader only ever needs Decrypt.
  bucket_keys = [
    for p in var.bucket_permissions : merge(p, {
      key_actions = length(setintersection(p.actions, ["s3:PutObject"])) > 0 ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"]
    }) if p.kms_key_arn != null && length(p.actions) > 0
  ]
}

# Only the function's service account, in its namespace, presenting a token for STS, may assume the role.
data "aws_iam_policy_document" "assume_role" {
  count = var.create ? 1 : 0

  statement {
    sid     = "ServiceAccountWebIdentity"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${var.namespace}:${var.service_account}"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

# What the function does, and nothing else: listed actions on listed tables and indexes, and the tables'
# key only through DynamoDB; listed object actions on listed buckets' key prefixes, and a bucket's key only
# through S3 for that bucket.
data "aws_iam_policy_document" "access" {
  count = var.create ? 1 : 0

  dynamic "statement" {
    for_each = [for p in var.table_permissions : p if length(p.actions) > 0]

    content {
      sid       = statement.value.sid
      effect    = "Allow"
      actions   = sort(statement.value.actions)
      resources = [statement.value.table_arn]
    }
  }

  dynamic "statement" {
    for_each = [for p in var.table_permissions : p if length(p.index_actions) > 0]

    content {
      sid       = "${statement.value.sid}Indexes"
      effect    = "Allow"
      actions   = sort(distinct(flatten(values(statement.value.index_actions))))
      resources = [for index in sort(keys(statement.value.index_actions)) : "${statement.value.table_arn}/index/${index}"]
    }
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [var.kms_key_arns] : []

    content {
      sid       = "TableKeyThroughDynamoDB"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
      resources = statement.value

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["dynamodb.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.bucket_objects

    content {
      sid       = statement.value.sid
      effect    = "Allow"
      actions   = sort(statement.value.actions)
      resources = statement.value.resources
    }
  }

  # ListBucket only where asked: it turns a HeadObject on a missing key into 404 instead of 403, and lists
  # key names (never contents).
  dynamic "statement" {
    for_each = [for p in var.bucket_permissions : p if p.list_bucket]

    content {
      sid       = "${statement.value.sid}List"
      effect    = "Allow"
      actions   = ["s3:ListBucket"]
      resources = [statement.value.bucket_arn]
    }
  }

  # SSE-KMS: S3 calls KMS on the caller's behalf, so the role needs the key, but only through S3 and only
  # for this bucket (the encryption context is the bucket's ARN with an S3 Bucket Key, the object's without).
  dynamic "statement" {
    for_each = local.bucket_keys

    content {
      sid       = "${statement.value.sid}KeyThroughS3"
      effect    = "Allow"
      actions   = statement.value.key_actions
      resources = [statement.value.kms_key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }

      condition {
        test     = "ArnLike"
        variable = "kms:EncryptionContext:aws:s3:arn"
        values   = [statement.value.bucket_arn, "${statement.value.bucket_arn}/*"]
      }
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name                 = var.name
  path                 = var.path
  description          = coalesce(var.description, "PIC function ${var.namespace}/${var.service_account} (IRSA)")
  assume_role_policy   = data.aws_iam_policy_document.assume_role[0].json
  max_session_duration = var.max_session_duration
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "access" {
  count = var.create && (length(var.table_permissions) > 0 || length(var.kms_key_arns) > 0 || length(var.bucket_permissions) > 0) ? 1 : 0

  name   = "${var.name}-access"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.access[0].json
}
