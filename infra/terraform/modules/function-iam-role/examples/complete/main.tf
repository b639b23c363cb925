# Two function roles as PIC uses them (IRSA on an existing EKS cluster):
# - an HTTP function that reads and writes its table and stages outbox rows;
# - the outbox relay, which may only Query the outbox's `pending` index and write outbox rows back.
provider "aws" {
  region = "eu-south-2"
}

data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  # In an env this comes from the cluster (see envs/aws); a placeholder issuer keeps the example standalone.
  oidc_provider_arn = "arn:aws:iam::${local.account_id}:oidc-provider/oidc.eks.eu-south-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
  kms_key_arn       = "arn:aws:kms:eu-south-2:${local.account_id}:key/00000000-0000-0000-0000-000000000000"
  table_arn         = "arn:aws:dynamodb:eu-south-2:${local.account_id}:table"
}

module "consent_role" {
  source = "../../"

  name              = "pic-example-pic-consent"
  oidc_provider_arn = local.oidc_provider_arn
  namespace         = "pic"
  service_account   = "pic-consent"

  table_permissions = [
    {
      sid       = "ConsentTable"
      table_arn = "${local.table_arn}/pic-example-consent"
      actions   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    },
    {
      sid       = "OutboxStage"
      table_arn = "${local.table_arn}/pic-example-outbox"
      actions   = ["dynamodb:PutItem"]
    },
  ]
  kms_key_arns = [local.kms_key_arn]

  tags = {
    "app.kubernetes.io/part-of" = "pic"
    Environment                 = "example"
  }
}

module "relay_role" {
  source = "../../"

  name              = "pic-example-pic-outbox-relay"
  oidc_provider_arn = local.oidc_provider_arn
  namespace         = "pic"
  service_account   = "pic-outbox-relay"

  table_permissions = [
    {
      sid           = "OutboxRelay"
      table_arn     = "${local.table_arn}/pic-example-outbox"
      actions       = ["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
      index_actions = { pending = ["dynamodb:Query"] }
    },
  ]
  kms_key_arns = [local.kms_key_arn]
}

module "disabled" {
  source = "../../"

  create            = false
  name              = "pic-example-disabled"
  oidc_provider_arn = local.oidc_provider_arn
  namespace         = "pic"
  service_account   = "nobody"
}
