data "aws_caller_identity" "current" {
  count = var.create ? 1 : 0
}

data "aws_partition" "current" {
  count = var.create ? 1 : 0
}

data "aws_region" "current" {
  count = var.create ? 1 : 0
}

locals {
  account_id = try(data.aws_caller_identity.current[0].account_id, "")
  partition  = try(data.aws_partition.current[0].partition, "aws")
  region     = try(data.aws_region.current[0].name, "")
}

# The key policy keeps the account in control (so IAM policies decide who uses the key), lets the named
# administrators manage it, and lets the named users use it only through the listed services.
data "aws_iam_policy_document" "this" {
  #checkov:skip=CKV_AWS_109:a key policy's Resource "*" is the key itself, not every resource
  #checkov:skip=CKV_AWS_111:a key policy's Resource "*" is the key itself, not every resource
  #checkov:skip=CKV_AWS_356:a key policy's Resource "*" is the key itself, not every resource
  count = var.create ? 1 : 0

  statement {
    sid       = "AccountControlThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  dynamic "statement" {
    for_each = length(var.key_administrators) > 0 ? [var.key_administrators] : []

    content {
      sid = "KeyAdministration"
      actions = [
        "kms:CancelKeyDeletion",
        "kms:Create*",
        "kms:Delete*",
        "kms:Describe*",
        "kms:Disable*",
        "kms:Enable*",
        "kms:Get*",
        "kms:List*",
        "kms:Put*",
        "kms:Revoke*",
        "kms:RotateKeyOnDemand",
        "kms:ScheduleKeyDeletion",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:Update*",
      ]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = statement.value
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.key_users) > 0 ? [var.key_users] : []

    content {
      sid = "KeyUseThroughServices"
      actions = [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey*",
        "kms:ReEncrypt*",
        "kms:CreateGrant",
      ]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = statement.value
      }

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [for service in var.key_user_via_services : "${service}.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_kms_key" "this" {
  count = var.create ? 1 : 0

  description              = var.description
  key_usage                = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  deletion_window_in_days  = var.deletion_window_in_days
  enable_key_rotation      = var.enable_key_rotation
  rotation_period_in_days  = var.enable_key_rotation ? var.rotation_period_in_days : null
  multi_region             = var.multi_region
  policy                   = data.aws_iam_policy_document.this[0].json
  tags                     = var.tags
}

resource "aws_kms_alias" "this" {
  for_each = var.create ? toset(var.aliases) : toset([])

  name          = "alias/${each.value}"
  target_key_id = aws_kms_key.this[0].key_id
}
