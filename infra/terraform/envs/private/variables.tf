variable "environment" {
  description = "Environment name (e.g. \"prod\", \"pre\"), used as a label."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 characters of [a-z0-9-], starting with a letter."
  }
}

variable "kubeconfig_path" {
  description = "Path of the kubeconfig for the on-premises cluster."
  type        = string
  default     = "~/.kube/config"
}

variable "kube_context" {
  description = "kubeconfig context of the on-premises cluster; null for the current context."
  type        = string
  default     = null
}

# --- Knative ------------------------------------------------------------------------------------

variable "knative_operator_chart_version" {
  description = "Version of the knative-operator Helm chart (mirror https://knative.github.io/operator if the cluster has no internet access)."
  type        = string
  default     = "v1.22.3"
}

variable "knative_version" {
  description = "Knative Serving/Eventing version the operator installs."
  type        = string
  default     = "1.22"
}

variable "kafka_broker_version" {
  description = "eventing-kafka-broker release the operator installs (same minor as knative_version)."
  type        = string
  default     = "1.22.0"
}

variable "control_plane_replicas" {
  description = "Replicas of the Knative control-plane deployments."
  type        = number
  default     = 2
}

variable "serving_domain" {
  description = "Domain of Knative Service URLs inside the council's network (e.g. \"pic.madrid.local\"); null keeps Knative's default."
  type        = string
  default     = null
}

variable "kourier_service_type" {
  description = "Service type of the Kourier gateway, when api_gateway is none: NodePort behind the council's load balancers (default), LoadBalancer with MetalLB or similar, or ClusterIP behind another ingress."
  type        = string
  default     = "NodePort"
}

# --- The API host (docs/decisions/0015) ----------------------------------------------------------

variable "api_gateway" {
  description = "Gateway API implementation serving the API host: istio (installed by the add-ons), or none (Knative with Kourier: each Knative Service answers on its own host, nothing serves the Gateway pic-api and its HTTPRoutes)."
  type        = string
  default     = "istio"

  validation {
    condition     = contains(["istio", "none"], var.api_gateway)
    error_message = "api_gateway must be istio or none."
  }
}

variable "istio_chart_version" {
  description = "Version of Istio's base and istiod Helm charts."
  type        = string
  default     = "1.30.0"
}

variable "api_host" {
  description = "The API host: MUST equal the hostname the private-cloud overlay gives the Gateway pic-api (infra/k8s/overlays/private-cloud/kustomization.yaml); tests/contract/test_terraform.py checks it."
  type        = string
  default     = "api.pic.madrid.local"
}

variable "api_tls_cluster_issuer" {
  description = "cert-manager ClusterIssuer (e.g. a CA issuer with the council's internal CA) that issues the API host's certificate into the Secret pic-api-tls; null (default): the platform team creates that Secret from the council's CA outside Terraform (kubectl -n pic create secret tls pic-api-tls ...)."
  type        = string
  default     = null
}

variable "api_service_type" {
  description = "Service type of the Gateway pic-api's Envoy: NodePort behind the council's load balancers (default), LoadBalancer with MetalLB or similar, or ClusterIP behind another ingress."
  type        = string
  default     = "NodePort"
}

# --- Kafka (existing) ---------------------------------------------------------------------------

variable "kafka_bootstrap_servers" {
  description = "Bootstrap servers (host:port) of the existing Kafka cluster that backs the Knative Kafka broker."
  type        = list(string)

  validation {
    condition     = length(var.kafka_bootstrap_servers) > 0
    error_message = "kafka_bootstrap_servers must list at least one host:port."
  }
}

variable "kafka_auth_secret_name" {
  description = "Secret in knative-eventing with the Kafka connection's protocol, SASL and TLS settings (created outside Terraform: it holds credentials); null for plaintext."
  type        = string
  default     = null
}

variable "kafka_topic_partitions" {
  description = "Partitions of each broker topic."
  type        = number
  default     = 10
}

variable "kafka_topic_replication_factor" {
  description = "Replication factor of each broker topic (at most the number of Kafka brokers)."
  type        = number
  default     = 3
}

# --- Data store (ScyllaDB Alternator, existing) -------------------------------------------------

variable "alternator_endpoint" {
  description = "URL of the ScyllaDB Alternator endpoint (DynamoDB API) the functions use: PIC_DYNAMODB_ENDPOINT in the private-cloud overlay (its default is the overlay's)."
  type        = string
  default     = "http://scylla-alternator.scylla.svc:8000"

  validation {
    condition     = can(regex("^https?://[^/\\s]+(:[0-9]+)?/?$", var.alternator_endpoint))
    error_message = "alternator_endpoint must be an http(s) URL such as https://alternator.scylla.svc:8043."
  }
}

variable "alternator_region" {
  description = "Region name the DynamoDB clients sign with (Alternator ignores it, boto3 needs one): AWS_REGION in the overlay."
  type        = string
  default     = "eu-south-2"
}

variable "object_store_endpoint" {
  description = "URL of the site's S3-compatible object store (Ceph RGW, MinIO) holding the campaign domain's files: AWS_ENDPOINT_URL_S3 in the private-cloud overlay (its default is the overlay's). It must accept the Alternator access key pair of pic-secrets (README.md)."
  type        = string
  default     = "http://rook-ceph-rgw-pic.rook-ceph.svc:80"

  validation {
    condition     = can(regex("^https?://[^/\\s]+(:[0-9]+)?/?$", var.object_store_endpoint))
    error_message = "object_store_endpoint must be an http(s) URL such as http://rook-ceph-rgw-pic.rook-ceph.svc:80."
  }
}

variable "campaign_bucket" {
  description = "The campaign domain's bucket in that object store (PIC_CAMPAIGN_BUCKET in the overlay), created by the platform team with the lifecycle README.md gives: personal data."
  type        = string
  default     = "pic-campaign"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.campaign_bucket))
    error_message = "campaign_bucket must be an S3 bucket name (3-63 of [a-z0-9.-])."
  }
}

variable "table_prefix" {
  description = "Prefix of every table name: PIC_TABLE_PREFIX in the overlay."
  type        = string
  default     = "pic-"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{0,200}$", var.table_prefix))
    error_message = "table_prefix may only hold [a-zA-Z0-9_.-]."
  }
}
