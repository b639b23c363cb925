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

  # One API host (docs/decisions/0015): Istio serves the Gateway pic-api and the generated HTTPRoutes of
  # infra/k8s/base/routes, and Knative Serving runs on the Gateway API (net-gateway-api).
  api_gateway          = var.api_gateway
  serving_ingress      = var.api_gateway == "none" ? "kourier" : "gateway-api"
  kourier_service_type = var.kourier_service_type
  istio_chart_version  = var.istio_chart_version
  api_host             = var.api_host
  api_service_type     = var.api_service_type
  api_tls = var.api_tls_cluster_issuer == null ? { source = "secret", cluster_issuer = null } : {
    source         = "cert-manager"
    cluster_issuer = var.api_tls_cluster_issuer
  }

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
