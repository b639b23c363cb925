# A customer-managed key for PIC's DynamoDB tables, administered by a platform role and usable by a
# function role only through DynamoDB.
provider "aws" {
  region = "eu-south-2"
}

data "aws_caller_identity" "current" {}

module "kms" {
  source = "../../"

  description             = "PIC example: DynamoDB tables"
  aliases                 = ["pic-example/dynamodb"]
  deletion_window_in_days = 30
  enable_key_rotation     = true
  rotation_period_in_days = 365

  key_administrators    = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/pic-platform-admin"]
  key_users             = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/pic-example-function"]
  key_user_via_services = ["dynamodb"]

  tags = {
    "app.kubernetes.io/part-of" = "pic"
    Environment                 = "example"
  }
}

module "kms_disabled" {
  source = "../../"

  create      = false
  description = "Not created: shows the create toggle"
}
