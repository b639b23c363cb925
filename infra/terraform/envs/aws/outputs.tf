output "kms_key_arn" {
  description = "ARN of the customer-managed key that encrypts every PIC table and the campaign bucket."
  value       = module.kms.key_arn
}

output "table_names" {
  description = "Table name by domain; the functions find them through PIC_TABLE_PREFIX."
  value = {
    outbox      = module.table_outbox.table_name
    idempotency = module.table_idempotency.table_name
    consent     = module.table_consent.table_name
    citizen     = module.table_citizen.table_name
    interaction = module.table_interaction.table_name
    campaign    = module.table_campaign.table_name
    payment     = module.table_payment.table_name
    flags       = module.table_flags.table_name
    position    = module.table_position.table_name
    audit       = module.table_audit.table_name
  }
}

output "table_arns" {
  description = "Table ARN by domain."
  value = {
    outbox      = module.table_outbox.table_arn
    idempotency = module.table_idempotency.table_arn
    consent     = module.table_consent.table_arn
    citizen     = module.table_citizen.table_arn
    interaction = module.table_interaction.table_arn
    campaign    = module.table_campaign.table_arn
    payment     = module.table_payment.table_arn
    flags       = module.table_flags.table_arn
    position    = module.table_position.table_arn
    audit       = module.table_audit.table_arn
  }
}

output "service_accounts" {
  description = "The ServiceAccount each function must run as (infra/k8s public-cloud overlay): namespace, name and the IRSA annotation."
  value = {
    for role in [
      module.role_pic_consent, module.role_pic_consent_events, module.role_pic_citizen, module.role_pic_citizen_events,
      module.role_pic_audit_relay, module.role_pic_citizen_relay, module.role_pic_consent_relay,
      module.role_pic_interaction_relay, module.role_pic_notification_relay, module.role_pic_position_relay,
      module.role_pic_rgpd_relay, module.role_pic_flags_relay, module.role_pic_flags, module.role_pic_flags_events,
      module.role_pic_interaction, module.role_pic_interaction_events, module.role_pic_position,
      module.role_pic_position_events, module.role_pic_audit, module.role_pic_audit_events,
      module.role_pic_payment, module.role_pic_payment_events, module.role_pic_payment_relay,
      module.role_pic_campaign, module.role_pic_campaign_events, module.role_pic_campaign_dispatch,
      module.role_pic_campaign_relay, module.role_pic_campaign_export,
    ] :
    role.service_account => {
      namespace   = role.namespace
      name        = role.service_account
      annotations = role.service_account_annotations
    }
  }
}

output "pic_config" {
  description = "Entries of the pic-config ConfigMap that this landing zone decides (public-cloud overlay)."
  value = {
    AWS_REGION          = var.region
    PIC_TABLE_PREFIX    = var.table_prefix
    PIC_CAMPAIGN_BUCKET = aws_s3_bucket.campaign.id
  }
}

output "campaign_bucket" {
  description = "The campaign domain's bucket (PIC_CAMPAIGN_BUCKET in pic-config: the export and the runs' and segments' files; personal data, SSE-KMS with kms_key_arn)."
  value       = aws_s3_bucket.campaign.id
}
