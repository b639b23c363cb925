# PIC's public-cloud landing zone on AWS: one customer-managed key, the DynamoDB tables the pynamodb models
# define (tables.tf), the campaign domain's bucket (buckets.tf), one IRSA role per function (functions.tf) and the
# cluster add-ons (cluster.tf) on an EKS cluster that already exists.

locals {
  tags = merge(var.tags, {
    Project                     = "pic"
    Environment                 = var.environment
    "app.kubernetes.io/part-of" = "pic"
    ManagedBy                   = "terraform"
  })

  oidc_provider_arn = coalesce(var.oidc_provider_arn, try(data.aws_iam_openid_connect_provider.eks[0].arn, null))
}

data "aws_eks_cluster" "this" {
  name = var.cluster_name
}

# The cluster's IAM OIDC provider (IRSA), looked up from the cluster's issuer unless given.
data "aws_iam_openid_connect_provider" "eks" {
  count = var.oidc_provider_arn == null ? 1 : 0

  url = data.aws_eks_cluster.this.identity[0].oidc[0].issuer
}

module "kms" {
  source = "../../modules/kms-key"

  description             = "PIC ${var.environment}: DynamoDB tables and the campaign bucket (personal data at rest)"
  aliases                 = ["pic/${var.environment}/dynamodb"]
  deletion_window_in_days = var.kms_deletion_window_in_days
  enable_key_rotation     = true
  key_administrators      = var.kms_key_administrators
}
