# The cluster side: Knative Serving/Eventing (Kafka broker over Amazon MSK) and the API host (Gateway API
# CRDs, Istio) on the existing EKS cluster, through the kubernetes and helm providers. Everything that needs those providers lives in this
# file, so that the AWS side can be validated offline without them (see README.md).

provider "kubernetes" {
  host                   = data.aws_eks_cluster.this.endpoint
  cluster_ca_certificate = base64decode(data.aws_eks_cluster.this.certificate_authority[0].data)

  exec {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "aws"
    args        = ["eks", "get-token", "--cluster-name", var.cluster_name, "--region", var.region]
  }
}

provider "helm" {
  kubernetes {
    host                   = data.aws_eks_cluster.this.endpoint
    cluster_ca_certificate = base64decode(data.aws_eks_cluster.this.certificate_authority[0].data)

    exec {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", var.cluster_name, "--region", var.region]
    }
  }
}

module "cluster_addons" {
  source = "../../modules/cluster-addons"

  create = var.enable_cluster_addons

  knative_operator_chart_version = var.knative_operator_chart_version
  knative_version                = var.knative_version
  serving_domain                 = var.serving_domain

  # One API host (docs/decisions/0015): Istio serves the Gateway pic-api and the generated HTTPRoutes of
  # infra/k8s/base/routes, and Knative Serving runs on the Gateway API (net-gateway-api).
  api_gateway          = var.api_gateway
  serving_ingress      = var.api_gateway == "none" ? "kourier" : "gateway-api"
  kourier_service_type = "LoadBalancer"
  istio_chart_version  = var.istio_chart_version
  api_host             = var.api_host
  api_service_type     = "LoadBalancer"
  api_tls = var.api_tls_cluster_issuer == null ? { source = "secret", cluster_issuer = null } : {
    source         = "cert-manager"
    cluster_issuer = var.api_tls_cluster_issuer
  }

  broker_class = var.broker_class
  kafka = var.broker_class == "Kafka" ? {
    bootstrap_servers        = var.kafka_bootstrap_servers
    topic_partitions         = var.kafka_topic_partitions
    topic_replication_factor = var.kafka_topic_replication_factor
    auth_secret_name         = var.kafka_auth_secret_name
  } : null

  # PIC's OPA (Deployment pic-opa and its policy bundle) comes from infra/k8s/base, not from here.
  enable_opa = false

  labels = {
    environment = var.environment
  }
}

output "kafka_broker_config" {
  description = "The cluster's default Kafka broker ConfigMap (namespace/name), for Brokers that name no config; null with MTChannelBasedBroker."
  value       = module.cluster_addons.kafka_broker_config
}

output "broker_class" {
  description = "Broker class the public-cloud overlay should set on PIC's Brokers (eventing.knative.dev/broker.class)."
  value       = module.cluster_addons.broker_class
}

output "api_url" {
  description = "Base URL of every channel API: the host of the public-cloud overlay's Gateway pic-api (null with api_gateway none)."
  value       = module.cluster_addons.api_url
}

output "api_gateway" {
  description = "The Gateway pic-api: host, namespace/name, class, TLS Secret and the Service whose load balancer DNS must point the host at."
  value       = module.cluster_addons.api_gateway
}
