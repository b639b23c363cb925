output "role_arn" {
  description = "ARN of the role: annotate the function's service account with it (eks.amazonaws.com/role-arn)."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "role_name" {
  description = "Name of the role."
  value       = try(aws_iam_role.this[0].name, null)
}

output "role_unique_id" {
  description = "Stable unique ID of the role."
  value       = try(aws_iam_role.this[0].unique_id, null)
}

output "namespace" {
  description = "Namespace of the service account the role trusts."
  value       = var.namespace
}

output "service_account" {
  description = "Name of the service account the role trusts."
  value       = var.service_account
}

output "service_account_annotations" {
  description = "Annotations to put on the Kubernetes service account so that its pods assume the role."
  value       = var.create ? { "eks.amazonaws.com/role-arn" = aws_iam_role.this[0].arn } : {}
}

output "access_policy_json" {
  description = "The inline access policy (JSON) attached to the role."
  value       = try(data.aws_iam_policy_document.access[0].json, null)
}
