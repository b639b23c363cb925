output "table_name" {
  description = "Name of the table."
  value       = try(aws_dynamodb_table.this[0].name, null)
}

output "table_id" {
  description = "ID of the table (its name)."
  value       = try(aws_dynamodb_table.this[0].id, null)
}

output "table_arn" {
  description = "ARN of the table: grant function roles access to it (function-iam-role's table_permissions)."
  value       = try(aws_dynamodb_table.this[0].arn, null)
}

output "index_arns" {
  description = "Map of global secondary index name to its ARN (the resource a Query on that index is authorised against)."
  value       = var.create ? { for i in var.global_secondary_indexes : i.name => "${aws_dynamodb_table.this[0].arn}/index/${i.name}" } : {}
}

output "table_stream_arn" {
  description = "ARN of the table's stream, when stream_enabled."
  value       = try(aws_dynamodb_table.this[0].stream_arn, null)
}

output "ttl_attribute_name" {
  description = "The TTL attribute, or null when the table has no TTL."
  value       = var.create ? var.ttl_attribute_name : null
}
