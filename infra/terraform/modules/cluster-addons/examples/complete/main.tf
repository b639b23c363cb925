# Knative Serving + Eventing with the Kafka broker over an existing Kafka, the API host (Gateway API, Istio)
# and a central OPA, on the cluster of the current kubeconfig context. First install on a fresh cluster (the
# operator's CRDs must exist before Terraform can plan its custom resources):
#   terraform apply -target=module.cluster_addons.helm_release.knative_operator
#   terraform apply
provider "kubernetes" {
  config_path    = var.kubeconfig_path
  config_context = var.kube_context
}

provider "helm" {
  kubernetes {
    config_path    = var.kubeconfig_path
    config_context = var.kube_context
  }
}

module "cluster_addons" {
  source = "../../"

  knative_version                = "1.22"
  knative_operator_chart_version = "v1.22.3"
  serving_domain                 = "pic.example.org"

  # The one API host: Gateway API CRDs and Istio, Knative on net-gateway-api, the certificate from
  # cert-manager (already on the cluster, with this ClusterIssuer).
  api_gateway         = "istio"
  serving_ingress     = "gateway-api"
  gateway_api_version = "v1.6.1"
  istio_chart_version = "1.30.0"
  api_host            = "api.pic.example.org"
  api_service_type    = "LoadBalancer"
  api_tls = {
    source         = "cert-manager"
    cluster_issuer = "letsencrypt"
  }

  broker_class = "Kafka"
  kafka = {
    bootstrap_servers        = ["kafka-0.kafka.example.org:9093", "kafka-1.kafka.example.org:9093", "kafka-2.kafka.example.org:9093"]
    topic_partitions         = 10
    topic_replication_factor = 3
    auth_secret_name         = "pic-kafka-auth"
  }

  # A central OPA for the whole cluster (PIC's own pic-opa comes from infra/k8s/base).
  enable_opa    = true
  opa_name      = "opa"
  opa_namespace = "opa"
  opa_replicas  = 2

  labels = {
    environment = "example"
  }
}
