output "key_arn" {
  description = "ARN of the key: pass it to tables (kms_key_arn) and to function roles (kms_key_arns)."
  value       = try(aws_kms_key.this[0].arn, null)
}

output "key_id" {
  description = "Globally unique identifier of the key."
  value       = try(aws_kms_key.this[0].key_id, null)
}

output "key_policy" {
  description = "The key policy document (JSON) attached to the key."
  value       = try(aws_kms_key.this[0].policy, null)
}

output "aliases" {
  description = "Map of alias name (as given) to alias ARN."
  value       = { for name, alias in aws_kms_alias.this : name => alias.arn }
}
