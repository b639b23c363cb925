output "key_arn" {
  description = "ARN of the example key."
  value       = module.kms.key_arn
}

output "aliases" {
  description = "Aliases of the example key."
  value       = module.kms.aliases
}

output "disabled_key_arn" {
  description = "Always null: the module was called with create = false."
  value       = module.kms_disabled.key_arn
}
