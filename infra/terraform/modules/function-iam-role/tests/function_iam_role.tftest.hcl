# Plan-only tests with a mocked AWS provider: they run offline and create nothing. The policy documents
# are data sources, so the assertions read the statements the module builds.
mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "eu-south-2"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  name              = "pic-test-pic-outbox-relay"
  oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-south-2.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
  namespace         = "pic"
  service_account   = "pic-outbox-relay"
  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = "arn:aws:dynamodb:eu-south-2:123456789012:table/pic-outbox"
      actions       = ["dynamodb:UpdateItem", "dynamodb:BatchWriteItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = ["arn:aws:kms:eu-south-2:123456789012:key/11111111-2222-3333-4444-555555555555"]
}

run "only_the_service_account_may_assume_the_role" {
  command = plan

  assert {
    condition     = one(data.aws_iam_policy_document.assume_role[0].statement[0].principals).identifiers == toset([var.oidc_provider_arn])
    error_message = "The role must trust the cluster's OIDC provider only."
  }

  assert {
    condition = toset([for c in data.aws_iam_policy_document.assume_role[0].statement[0].condition : "${c.variable}=${join(",", c.values)}"]) == toset([
      "oidc.eks.eu-south-2.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF:sub=system:serviceaccount:pic:pic-outbox-relay",
      "oidc.eks.eu-south-2.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF:aud=sts.amazonaws.com",
    ])
    error_message = "The trust policy must pin the service account (sub) and the STS audience (aud)."
  }

  assert {
    condition     = data.aws_iam_policy_document.assume_role[0].statement[0].actions == toset(["sts:AssumeRoleWithWebIdentity"])
    error_message = "Only AssumeRoleWithWebIdentity is allowed."
  }
}

run "access_is_limited_to_the_listed_actions_tables_and_indexes" {
  command = plan

  assert {
    condition     = data.aws_iam_policy_document.access[0].statement[0].actions == toset(["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"])
    error_message = "Table actions must be exactly the listed ones."
  }

  assert {
    condition     = data.aws_iam_policy_document.access[0].statement[0].resources == toset(["arn:aws:dynamodb:eu-south-2:123456789012:table/pic-outbox"])
    error_message = "Table actions must apply to the table only."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.access[0].statement[1].actions == toset(["dynamodb:Query"]) &&
      data.aws_iam_policy_document.access[0].statement[1].resources == toset(["arn:aws:dynamodb:eu-south-2:123456789012:table/pic-outbox/index/pending"])
    )
    error_message = "Index actions must apply to the named index only."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.access[0].statement[2].resources == toset(var.kms_key_arns) &&
      one(data.aws_iam_policy_document.access[0].statement[2].condition).values == tolist(["dynamodb.eu-south-2.amazonaws.com"])
    )
    error_message = "The table key must be usable only through DynamoDB."
  }

  assert {
    condition     = length(aws_iam_role_policy.access) == 1 && aws_iam_role.this[0].name == "pic-test-pic-outbox-relay"
    error_message = "One role with one inline policy is expected."
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition     = length(aws_iam_role.this) == 0 && length(aws_iam_role_policy.access) == 0 && length(output.service_account_annotations) == 0
    error_message = "create = false must create no role and no policy."
  }
}

run "rejects_wildcard_actions" {
  command = plan

  variables {
    table_permissions = [
      { sid = "Everything", table_arn = "arn:aws:dynamodb:eu-south-2:123456789012:table/pic-outbox", actions = ["dynamodb:*"] },
    ]
  }

  expect_failures = [var.table_permissions]
}

run "rejects_table_management_actions" {
  command = plan

  variables {
    table_permissions = [
      { sid = "Drop", table_arn = "arn:aws:dynamodb:eu-south-2:123456789012:table/pic-outbox", actions = ["dynamodb:DeleteTable"] },
    ]
  }

  expect_failures = [var.table_permissions]
}

run "rejects_a_wildcard_table_arn" {
  command = plan

  variables {
    table_permissions = [
      { sid = "All", table_arn = "arn:aws:dynamodb:eu-south-2:123456789012:table/*", actions = ["dynamodb:GetItem"] },
    ]
  }

  expect_failures = [var.table_permissions]
}

run "rejects_writes_on_an_index" {
  command = plan

  variables {
    table_permissions = [
      { sid = "Idx", table_arn = "arn:aws:dynamodb:eu-south-2:123456789012:table/pic-outbox", index_actions = { pending = ["dynamodb:PutItem"] } },
    ]
  }

  expect_failures = [var.table_permissions]
}

run "bucket_access_is_limited_to_its_prefixes_and_its_key_to_s3_for_that_bucket" {
  command = plan

  variables {
    bucket_permissions = [
      {
        sid         = "CampaignFiles"
        bucket_arn  = "arn:aws:s3:::pic-test-pic-campaign-123456789012"
        actions     = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]
        prefixes    = ["runs/", "audience.parquet"]
        list_bucket = true
        kms_key_arn = "arn:aws:kms:eu-south-2:123456789012:key/11111111-2222-3333-4444-555555555555"
      },
      {
        sid         = "CampaignRuns"
        bucket_arn  = "arn:aws:s3:::pic-test-pic-campaign-123456789012"
        actions     = ["s3:GetObject"]
        prefixes    = ["runs/"]
        kms_key_arn = "arn:aws:kms:eu-south-2:123456789012:key/11111111-2222-3333-4444-555555555555"
      },
    ]
  }

  assert {
    condition = (
      data.aws_iam_policy_document.access[0].statement[3].sid == "CampaignFiles" &&
      data.aws_iam_policy_document.access[0].statement[3].actions == toset(["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]) &&
      data.aws_iam_policy_document.access[0].statement[3].resources == toset([
        "arn:aws:s3:::pic-test-pic-campaign-123456789012/audience.parquet*",
        "arn:aws:s3:::pic-test-pic-campaign-123456789012/runs/*",
      ])
    )
    error_message = "Object actions must be exactly the listed ones, on the listed prefixes only."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.access[0].statement[4].actions == toset(["s3:GetObject"]) &&
      data.aws_iam_policy_document.access[0].statement[4].resources == toset(["arn:aws:s3:::pic-test-pic-campaign-123456789012/runs/*"])
    )
    error_message = "A read-only statement must grant GetObject on its prefix only."
  }

  assert {
    condition = (
      length(data.aws_iam_policy_document.access[0].statement) == 8 &&
      data.aws_iam_policy_document.access[0].statement[5].sid == "CampaignFilesList" &&
      data.aws_iam_policy_document.access[0].statement[5].actions == toset(["s3:ListBucket"]) &&
      data.aws_iam_policy_document.access[0].statement[5].resources == toset(["arn:aws:s3:::pic-test-pic-campaign-123456789012"])
    )
    error_message = "ListBucket must be granted on the bucket only, and only where asked."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.access[0].statement[6].actions == toset(["kms:Decrypt", "kms:GenerateDataKey"]) &&
      data.aws_iam_policy_document.access[0].statement[7].actions == toset(["kms:Decrypt"]) &&
      toset([for c in data.aws_iam_policy_document.access[0].statement[6].condition : "${c.test}:${c.variable}=${join(",", c.values)}"]) == toset([
        "StringEquals:kms:ViaService=s3.eu-south-2.amazonaws.com",
        "ArnLike:kms:EncryptionContext:aws:s3:arn=arn:aws:s3:::pic-test-pic-campaign-123456789012,arn:aws:s3:::pic-test-pic-campaign-123456789012/*",
      ])
    )
    error_message = "The bucket's key must be usable only through S3, for that bucket, and GenerateDataKey only by a writer."
  }
}

run "a_bucket_alone_still_gets_its_policy" {
  command = plan

  variables {
    table_permissions = []
    kms_key_arns      = []
    bucket_permissions = [
      { sid = "Export", bucket_arn = "arn:aws:s3:::pic-test-pic-campaign-123456789012", actions = ["s3:GetObject"] },
    ]
  }

  assert {
    condition = (
      length(aws_iam_role_policy.access) == 1 &&
      data.aws_iam_policy_document.access[0].statement[0].resources == toset(["arn:aws:s3:::pic-test-pic-campaign-123456789012/*"])
    )
    error_message = "Without prefixes the object actions cover the bucket's objects, and the policy is attached."
  }
}

run "rejects_bucket_management_and_wildcard_actions" {
  command = plan

  variables {
    bucket_permissions = [
      { sid = "Open", bucket_arn = "arn:aws:s3:::pic-test-pic-campaign-123456789012", actions = ["s3:PutBucketPolicy", "s3:*"] },
    ]
  }

  expect_failures = [var.bucket_permissions]
}

run "rejects_a_wildcard_bucket_arn" {
  command = plan

  variables {
    bucket_permissions = [
      { sid = "All", bucket_arn = "arn:aws:s3:::*", actions = ["s3:GetObject"] },
    ]
  }

  expect_failures = [var.bucket_permissions]
}

run "rejects_a_wildcard_prefix" {
  command = plan

  variables {
    bucket_permissions = [
      { sid = "Runs", bucket_arn = "arn:aws:s3:::pic-test-pic-campaign-123456789012", actions = ["s3:GetObject"], prefixes = ["runs/*"] },
    ]
  }

  expect_failures = [var.bucket_permissions]
}

run "rejects_a_bucket_sid_that_a_table_statement_uses" {
  command = plan

  variables {
    bucket_permissions = [
      { sid = "OutboxRelay", bucket_arn = "arn:aws:s3:::pic-test-pic-campaign-123456789012", actions = ["s3:GetObject"] },
    ]
  }

  expect_failures = [var.bucket_permissions]
}
