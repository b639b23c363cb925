locals {
  provisioned = var.billing_mode == "PROVISIONED"

  attribute_names = [for a in var.attributes : a.name]
  key_names = distinct(compact(concat(
    [var.hash_key, var.range_key],
    flatten([for i in var.global_secondary_indexes : [i.hash_key, i.range_key]]),
  )))
}

resource "aws_dynamodb_table" "this" {
  count = var.create ? 1 : 0

  name                        = var.name
  billing_mode                = var.billing_mode
  read_capacity               = local.provisioned ? var.read_capacity : null
  write_capacity              = local.provisioned ? var.write_capacity : null
  hash_key                    = var.hash_key
  range_key                   = var.range_key
  table_class                 = var.table_class
  deletion_protection_enabled = var.deletion_protection_enabled
  stream_enabled              = var.stream_enabled
  stream_view_type            = var.stream_enabled ? var.stream_view_type : null

  dynamic "attribute" {
    for_each = var.attributes

    content {
      name = attribute.value.name
      type = attribute.value.type
    }
  }

  dynamic "global_secondary_index" {
    for_each = var.global_secondary_indexes

    content {
      name               = global_secondary_index.value.name
      hash_key           = global_secondary_index.value.hash_key
      range_key          = global_secondary_index.value.range_key
      projection_type    = global_secondary_index.value.projection_type
      non_key_attributes = global_secondary_index.value.projection_type == "INCLUDE" ? global_secondary_index.value.non_key_attributes : null
      read_capacity      = local.provisioned ? global_secondary_index.value.read_capacity : null
      write_capacity     = local.provisioned ? global_secondary_index.value.write_capacity : null
    }
  }

  point_in_time_recovery {
    enabled                 = var.point_in_time_recovery_enabled
    recovery_period_in_days = var.point_in_time_recovery_enabled ? var.point_in_time_recovery_period_in_days : null
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  dynamic "ttl" {
    for_each = var.ttl_attribute_name == null ? [] : [var.ttl_attribute_name]

    content {
      enabled        = true
      attribute_name = ttl.value
    }
  }

  tags = merge(var.tags, { Name = var.name })

  lifecycle {
    precondition {
      condition     = alltrue([for key in local.key_names : contains(local.attribute_names, key)])
      error_message = "Every key of the table and of its indexes must be declared in attributes."
    }

    precondition {
      condition     = alltrue([for name in local.attribute_names : contains(local.key_names, name)])
      error_message = "attributes may only declare key attributes (of the table or an index): DynamoDB rejects the others."
    }

    precondition {
      condition     = !local.provisioned || (var.read_capacity != null && var.write_capacity != null)
      error_message = "PROVISIONED billing needs read_capacity and write_capacity."
    }
  }
}
