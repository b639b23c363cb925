# The city's linkage on EMR Serverless in Spain's region, its batch bucket encrypted with a customer key.
provider "aws" {
  region = "eu-south-2"
}

module "c360_spark" {
  source = "../../"

  name         = "pic-example-c360-spark"
  batch_bucket = "pic-example-c360-batch"
  kms_key_arn  = "arn:aws:kms:eu-south-2:123456789012:key/00000000-0000-0000-0000-000000000000"
  executors    = 4

  tags = {
    "app.kubernetes.io/part-of" = "pic"
    Environment                 = "example"
  }
}

output "application_id" {
  value = module.c360_spark.application_id
}

output "job_driver" {
  value = module.c360_spark.job_driver
}
