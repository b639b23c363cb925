# Two tables in the shapes PIC uses, encrypted with their own customer-managed key:
# - a hash-only table with a sparse, sharded GSI and TTL (the outbox's shape);
# - a hash+range table with a KEYS_ONLY GSI (the consent table's shape).
provider "aws" {
  region = "eu-south-2"
}

module "kms" {
  source = "../../../kms-key"

  description = "PIC example: DynamoDB tables"
  aliases     = ["pic-example/dynamodb"]
}

module "outbox" {
  source = "../../"

  name     = "pic-example-outbox"
  hash_key = "id"
  attributes = [
    { name = "id", type = "S" },
    { name = "pending_shard", type = "S" },
    { name = "created_at", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "pending", hash_key = "pending_shard", range_key = "created_at", projection_type = "ALL" },
  ]
  ttl_attribute_name = "expires_at"

  kms_key_arn                    = module.kms.key_arn
  point_in_time_recovery_enabled = true
  deletion_protection_enabled    = false # an example: allow `terraform destroy`

  tags = {
    "app.kubernetes.io/part-of" = "pic"
    Environment                 = "example"
  }
}

module "consent" {
  source = "../../"

  name      = "pic-example-consent"
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

  kms_key_arn                 = module.kms.key_arn
  deletion_protection_enabled = false
}

module "disabled" {
  source = "../../"

  create      = false
  name        = "pic-example-disabled"
  hash_key    = "id"
  attributes  = [{ name = "id", type = "S" }]
  kms_key_arn = "arn:aws:kms:eu-south-2:123456789012:key/00000000-0000-0000-0000-000000000000"
}
