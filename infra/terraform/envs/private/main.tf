# PIC's private-cloud landing zone: the council's on-premises Kubernetes, with Knative Serving/Eventing and
# the Knative Kafka broker over the existing Kafka. The data store is ScyllaDB Alternator
# (DynamoDB-compatible), already run by the platform team; its tables are created from the pynamodb models
# by the platform's bootstrap, not by Terraform: README.md says why.

module "cluster_addons" {
  source = "../../modules/cluster-addons"

  knative_operator_chart_version = var.knative_operator_chart_version
  knative_version                = var.knative_version
  control_plane_replicas         = var.control_plane_replicas
  serving_domain                 = var.serving_domain
  serving_ingress                = "kourier"
  kourier_service_type           = var.kourier_service_type

  broker_class = "Kafka"
  kafka = {
    bootstrap_servers        = var.kafka_bootstrap_servers
    topic_partitions         = var.kafka_topic_partitions
    topic_replication_factor = var.kafka_topic_replication_factor
    auth_secret_name         = var.kafka_auth_secret_name
  }
  kafka_broker_version = var.kafka_broker_version

  # PIC's OPA (Deployment pic-opa and its policy bundle) comes from infra/k8s/base, not from here.
  enable_opa = false

  labels = {
    environment = var.environment
  }
}
