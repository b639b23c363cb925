output "consent_role_arn" {
  description = "ARN of the example HTTP function's role."
  value       = module.consent_role.role_arn
}

output "relay_service_account_annotations" {
  description = "Annotations for the relay's service account."
  value       = module.relay_role.service_account_annotations
}

output "disabled_role_arn" {
  description = "Always null: the module was called with create = false."
  value       = module.disabled.role_arn
}
