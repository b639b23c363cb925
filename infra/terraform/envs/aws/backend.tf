# Remote state: an S3 bucket (versioned, encrypted with KMS, public access blocked) in the platform
# account, with S3-native locking (Terraform >= 1.10: use_lockfile, no DynamoDB lock table). It is commented
# out so that `terraform init -backend=false` / `validate` work anywhere; to enable it:
#   1. create the bucket once (outside this env: it must outlive it), e.g. "madrid-pic-tfstate";
#   2. uncomment the block below and run
#        terraform init -backend-config="bucket=madrid-pic-tfstate" -backend-config="key=pic/<environment>/aws.tfstate"
#      (bucket and key are passed at init so that one configuration serves every environment);
#   3. `terraform init -migrate-state` if a local state already exists.
#
# terraform {
#   backend "s3" {
#     region       = "eu-south-2"
#     encrypt      = true
#     use_lockfile = true
#     # kms_key_id = "alias/pic-tfstate"
#   }
# }
