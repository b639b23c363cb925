# Plan-only tests with a mocked AWS provider: they run offline and create nothing.
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

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
  description = "PIC test key"
  aliases     = ["pic-test/dynamodb"]
}

run "creates_a_rotating_symmetric_key_with_its_alias" {
  command = plan

  assert {
    condition     = aws_kms_key.this[0].enable_key_rotation && aws_kms_key.this[0].rotation_period_in_days == 365
    error_message = "The key must rotate yearly by default."
  }

  assert {
    condition     = aws_kms_key.this[0].customer_master_key_spec == "SYMMETRIC_DEFAULT" && aws_kms_key.this[0].key_usage == "ENCRYPT_DECRYPT"
    error_message = "DynamoDB encryption needs a symmetric ENCRYPT_DECRYPT key."
  }

  assert {
    condition     = aws_kms_key.this[0].deletion_window_in_days == 30
    error_message = "The default deletion window must be the longest (30 days)."
  }

  assert {
    condition     = aws_kms_alias.this["pic-test/dynamodb"].name == "alias/pic-test/dynamodb"
    error_message = "Aliases are created with the alias/ prefix."
  }

  assert {
    condition     = one(data.aws_iam_policy_document.this[0].statement[0].principals).identifiers == toset(["arn:aws:iam::123456789012:root"])
    error_message = "The account root must keep control of the key, so that IAM policies decide its use."
  }
}

run "key_users_may_use_the_key_only_through_dynamodb" {
  command = plan

  variables {
    key_users = ["arn:aws:iam::123456789012:role/pic-consent"]
  }

  assert {
    condition     = length(data.aws_iam_policy_document.this[0].statement) == 2
    error_message = "Expected the root statement and the key-use statement."
  }

  assert {
    condition     = one(data.aws_iam_policy_document.this[0].statement[1].condition).values == tolist(["dynamodb.eu-south-2.amazonaws.com"])
    error_message = "Key users must be limited to kms:ViaService = dynamodb.<region>.amazonaws.com."
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && length(aws_kms_alias.this) == 0
    error_message = "create = false must create no key and no alias."
  }
}

run "rejects_a_reserved_alias" {
  command = plan

  variables {
    aliases = ["aws/dynamodb"]
  }

  expect_failures = [var.aliases]
}

run "rejects_a_deletion_window_shorter_than_seven_days" {
  command = plan

  variables {
    deletion_window_in_days = 3
  }

  expect_failures = [var.deletion_window_in_days]
}
