# --- Where ---------------------------------------------------------------------------------------

variable "region" {
  description = "AWS Region of the landing zone (eu-south-2 is Spain, Aragón: data stays in Spain)."
  type        = string
  default     = "eu-south-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS Region code such as eu-south-2."
  }
}

variable "environment" {
  description = "Environment name (e.g. \"prod\", \"pre\"): part of role names, the key alias and tags."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 characters of [a-z0-9-], starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags for every resource (Project, Environment, ManagedBy and app.kubernetes.io/part-of are always set)."
  type        = map(string)
  default     = {}
}

# --- The existing EKS cluster --------------------------------------------------------------------

variable "cluster_name" {
  description = "Name of the existing EKS cluster that runs PIC."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must be a valid EKS cluster name."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider for IRSA; null to look it up from the cluster's issuer (it must exist: `eksctl utils associate-iam-oidc-provider` or the EKS module creates it)."
  type        = string
  default     = null

  validation {
    condition     = var.oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be null or an IAM OIDC provider ARN."
  }
}

variable "namespace" {
  description = "Kubernetes namespace of PIC's functions (infra/k8s/base sets \"pic\"): the function roles trust service accounts there."
  type        = string
  default     = "pic"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a Kubernetes DNS label."
  }
}

# --- Data ----------------------------------------------------------------------------------------

variable "table_prefix" {
  description = "Prefix of every table name; must equal PIC_TABLE_PREFIX in the functions' pic-config ConfigMap (\"pic-\" by default)."
  type        = string
  default     = "pic-"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{0,200}$", var.table_prefix))
    error_message = "table_prefix may only hold [a-zA-Z0-9_.-]."
  }
}

variable "deletion_protection_enabled" {
  description = "Whether the tables refuse deletion. Keep true wherever real citizens' data lives."
  type        = bool
  default     = true
}

variable "point_in_time_recovery_period_in_days" {
  description = "How many days back the tables can be restored (1-35)."
  type        = number
  default     = 35

  validation {
    condition     = var.point_in_time_recovery_period_in_days >= 1 && var.point_in_time_recovery_period_in_days <= 35
    error_message = "point_in_time_recovery_period_in_days must be between 1 and 35."
  }
}

variable "campaign_run_retention_days" {
  description = "Days a campaign run's members (runs/) and a segment's rebuild (snapshots/) stay in the campaign bucket: longer than the longest conversion window a campaign may ask for (90 days, functions/campaign/service.py Conversion.days) plus the margin a late or redelivered event and a paused run need."
  type        = number
  default     = 120

  validation {
    condition     = var.campaign_run_retention_days > 90 && var.campaign_run_retention_days <= 400
    error_message = "campaign_run_retention_days must exceed the 90-day longest conversion window, and be at most 400."
  }
}

variable "kms_key_administrators" {
  description = "IAM role/user ARNs that administer the tables' KMS key (the account root always keeps control)."
  type        = list(string)
  default     = []
}

variable "kms_deletion_window_in_days" {
  description = "Days a deleted tables' key can still be recovered (7-30)."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30
    error_message = "kms_deletion_window_in_days must be between 7 and 30."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary for the function roles, when the account's guardrails require one."
  type        = string
  default     = null
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
  description = "The API host: MUST equal the hostname the public-cloud overlay gives the Gateway pic-api (infra/k8s/overlays/public-cloud/kustomization.yaml); tests/contract/test_terraform.py checks it."
  type        = string
  default     = "api.pic.madrid.es"
}

variable "api_tls_cluster_issuer" {
  description = "cert-manager ClusterIssuer that issues the API host's certificate into the Secret pic-api-tls (e.g. Let's Encrypt with Route 53 DNS-01; cert-manager and the issuer installed beforehand); null: the Secret is created outside Terraform."
  type        = string
  default     = null
}

# --- Cluster add-ons (cluster.tf) ----------------------------------------------------------------

variable "enable_cluster_addons" {
  description = "Whether this env installs Knative and the Kafka broker on the cluster (false when another team owns the cluster's add-ons)."
  type        = bool
  default     = true
}

variable "knative_operator_chart_version" {
  description = "Version of the knative-operator Helm chart."
  type        = string
  default     = "v1.22.3"
}

variable "knative_version" {
  description = "Knative Serving/Eventing version the operator installs."
  type        = string
  default     = "1.22"
}

variable "serving_domain" {
  description = "Domain of Knative Service URLs (e.g. \"pic.madrid.es\"); null keeps Knative's default."
  type        = string
  default     = null
}

variable "broker_class" {
  description = "Knative broker class: Kafka (on Amazon MSK, durable: production) or MTChannelBasedBroker (in-memory: test clusters only)."
  type        = string
  default     = "Kafka"

  validation {
    condition     = contains(["Kafka", "MTChannelBasedBroker"], var.broker_class)
    error_message = "broker_class must be Kafka or MTChannelBasedBroker."
  }
}

variable "kafka_bootstrap_servers" {
  description = "Bootstrap brokers (host:port) of the existing Amazon MSK cluster, e.g. its SASL/SCRAM endpoints (port 9096)."
  type        = list(string)
  default     = []
}

variable "kafka_auth_secret_name" {
  description = "Secret in knative-eventing with the MSK connection's protocol (SASL_SSL), SASL mechanism (SCRAM-SHA-512), user and password; created outside Terraform (e.g. by External Secrets from Secrets Manager). null for plaintext."
  type        = string
  default     = null
}

variable "kafka_topic_partitions" {
  description = "Partitions of each broker topic."
  type        = number
  default     = 10
}

variable "kafka_topic_replication_factor" {
  description = "Replication factor of each broker topic (3 for a three-AZ MSK cluster)."
  type        = number
  default     = 3
}
