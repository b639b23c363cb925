# Plan-only tests with a mocked AWS provider: they run offline and create nothing.
mock_provider "aws" {}

variables {
  name     = "pic-test-outbox"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
    { name = "pending_shard", type = "S" },
    { name = "created_at", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "pending", hash_key = "pending_shard", range_key = "created_at" },
  ]
  ttl_attribute_name = "expires_at"
  kms_key_arn        = "arn:aws:kms:eu-south-2:123456789012:key/11111111-2222-3333-4444-555555555555"
}

run "outbox_shaped_table_has_its_keys_index_and_ttl" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.this[0].name == "pic-test-outbox" && aws_dynamodb_table.this[0].hash_key == "id" && aws_dynamodb_table.this[0].range_key == null
    error_message = "The table must be named as given, hash key id, no range key."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].billing_mode == "PAY_PER_REQUEST"
    error_message = "On-demand billing is the default."
  }

  assert {
    condition = (
      one(aws_dynamodb_table.this[0].global_secondary_index).name == "pending" &&
      one(aws_dynamodb_table.this[0].global_secondary_index).hash_key == "pending_shard" &&
      one(aws_dynamodb_table.this[0].global_secondary_index).range_key == "created_at" &&
      one(aws_dynamodb_table.this[0].global_secondary_index).projection_type == "ALL"
    )
    error_message = "The pending index must be hash pending_shard, range created_at, projection ALL."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].ttl[0].enabled && aws_dynamodb_table.this[0].ttl[0].attribute_name == "expires_at"
    error_message = "TTL must be on expires_at."
  }
}

run "tables_are_recoverable_encrypted_and_protected_by_default" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.this[0].point_in_time_recovery[0].enabled && aws_dynamodb_table.this[0].point_in_time_recovery[0].recovery_period_in_days == 35
    error_message = "Point-in-time recovery must be on, 35 days back, by default."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].server_side_encryption[0].enabled && aws_dynamodb_table.this[0].server_side_encryption[0].kms_key_arn == var.kms_key_arn
    error_message = "The table must be encrypted with the given customer-managed key."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].deletion_protection_enabled
    error_message = "Deletion protection must be on by default."
  }

  assert {
    condition     = output.index_arns == {} || length(output.index_arns) == 1
    error_message = "index_arns must list the one index."
  }
}

run "hash_and_range_table_with_keys_only_index" {
  command = plan

  variables {
    name      = "pic-test-consent"
    hash_key  = "citizen_id"
    range_key = "item"
    attributes = [
      { name = "citizen_id", type = "S" },
      { name = "item", type = "S" },
      { name = "topic_zone", type = "S" },
    ]
    global_secondary_indexes = [
      { name = "by-topic-zone", hash_key = "topic_zone", range_key = "citizen_id", projection_type = "KEYS_ONLY" },
    ]
    ttl_attribute_name = null
  }

  assert {
    condition     = aws_dynamodb_table.this[0].range_key == "item" && length(aws_dynamodb_table.this[0].attribute) == 3
    error_message = "The table must have range key item and three key attributes."
  }

  assert {
    condition     = one(aws_dynamodb_table.this[0].global_secondary_index).projection_type == "KEYS_ONLY"
    error_message = "by-topic-zone must project KEYS_ONLY."
  }

  assert {
    condition     = length(aws_dynamodb_table.this[0].ttl) == 0
    error_message = "No TTL block when ttl_attribute_name is null."
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition     = length(aws_dynamodb_table.this) == 0 && output.table_arn == null
    error_message = "create = false must create no table."
  }
}

run "rejects_a_key_that_is_not_declared" {
  command = plan

  variables {
    attributes = [
      { name = "id", type = "S" },
      { name = "pending_shard", type = "S" },
    ]
  }

  expect_failures = [aws_dynamodb_table.this]
}

run "rejects_a_non_key_attribute" {
  command = plan

  variables {
    attributes = [
      { name = "id", type = "S" },
      { name = "pending_shard", type = "S" },
      { name = "created_at", type = "S" },
      { name = "type", type = "S" },
    ]
  }

  expect_failures = [aws_dynamodb_table.this]
}

run "rejects_an_alias_instead_of_a_key_arn" {
  command = plan

  variables {
    kms_key_arn = "alias/aws/dynamodb"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_an_unknown_attribute_type" {
  command = plan

  variables {
    attributes = [{ name = "id", type = "STRING" }]
  }

  expect_failures = [var.attributes]
}
