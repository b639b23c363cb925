# Remote state in the cluster itself: the "kubernetes" backend keeps the state in a Secret and locks with a
# Lease, so no other service is needed on premises. It is commented out so that `terraform init
# -backend=false` / `validate` work anywhere; to enable it:
#   1. create the namespace once (outside this env), e.g. `kubectl create namespace pic-terraform`, and give
#      the operators who apply this env rights on Secrets and Leases there;
#   2. uncomment the block below and run `terraform init` (or `terraform init -migrate-state` to move a
#      local state).
# Where PostgreSQL is the council's standard, backend "pg" (conn_str from PG_CONN_STR, schema_name
# "pic_private") is the alternative; never keep real state on a laptop.
#
# terraform {
#   backend "kubernetes" {
#     secret_suffix = "pic-private"
#     namespace     = "pic-terraform"
#     config_path   = "~/.kube/config"
#   }
# }
