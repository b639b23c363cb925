# The cluster side: Knative Serving/Eventing (Kafka broker over Amazon MSK) on the existing EKS cluster, through the kubernetes and helm providers. Everything that needs those providers lives in this
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
  serving_ingress                = "kourier"
  kourier_service_type           = "LoadBalancer"

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
