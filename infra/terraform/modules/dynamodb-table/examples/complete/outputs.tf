output "outbox_table_arn" {
  description = "ARN of the example outbox-shaped table."
  value       = module.outbox.table_arn
}

output "outbox_index_arns" {
  description = "Index ARNs of the example outbox-shaped table."
  value       = module.outbox.index_arns
}

output "consent_table_arn" {
  description = "ARN of the example consent-shaped table."
  value       = module.consent.table_arn
}

output "disabled_table_arn" {
  description = "Always null: the module was called with create = false."
  value       = module.disabled.table_arn
}
