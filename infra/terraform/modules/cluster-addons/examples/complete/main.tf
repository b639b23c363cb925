# Knative Serving + Eventing with the Kafka broker over an existing Kafka, and a central OPA, on the cluster of
# the current kubeconfig context. First install on a fresh cluster (the operator's CRDs must exist before
# Terraform can plan its custom resources):
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
  serving_ingress                = "kourier"
  kourier_service_type           = "LoadBalancer"

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
