variable "create" {
  description = "Whether to install anything. Set to false to keep the module call but install nothing."
  type        = bool
  default     = true
}

variable "labels" {
  description = "Extra labels for the namespaces this module creates (app.kubernetes.io/part-of and managed-by are always set)."
  type        = map(string)
  default     = {}
}

# --- Knative (through the Knative Operator) -------------------------------------------------------

variable "knative_operator_chart_version" {
  description = "Version of the knative-operator Helm chart (https://knative.github.io/operator), e.g. \"v1.22.3\". The operator installs the Knative version in knative_version."
  type        = string
  default     = "v1.22.3"

  validation {
    condition     = can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+$", var.knative_operator_chart_version))
    error_message = "knative_operator_chart_version must look like v1.22.3."
  }
}

variable "knative_version" {
  description = "Knative Serving/Eventing version the operator installs (\"1.22\" = latest patch of 1.22). The operator supports its own minor and the two before it, and upgrades one minor at a time."
  type        = string
  default     = "1.22"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+(\\.[0-9]+)?$", var.knative_version))
    error_message = "knative_version must look like 1.22 or 1.22.1."
  }
}

variable "control_plane_replicas" {
  description = "Replicas of the Knative control-plane deployments (high availability: 2 or more in production)."
  type        = number
  default     = 2

  validation {
    condition     = var.control_plane_replicas >= 1 && var.control_plane_replicas <= 5
    error_message = "control_plane_replicas must be between 1 and 5."
  }
}

variable "enable_knative_serving" {
  description = "Whether to install Knative Serving (runs every PIC function as a Knative Service)."
  type        = bool
  default     = true
}

variable "serving_domain" {
  description = "Domain for Knative Service URLs (e.g. \"pic.madrid.es\"), or null to keep Knative's default."
  type        = string
  default     = null

  validation {
    condition     = var.serving_domain == null || can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$", var.serving_domain))
    error_message = "serving_domain must be null or a DNS domain."
  }
}

variable "serving_ingress" {
  description = "Networking layer for Knative Serving: kourier (installed by the operator), istio or contour (must already be on the cluster)."
  type        = string
  default     = "kourier"

  validation {
    condition     = contains(["kourier", "istio", "contour"], var.serving_ingress)
    error_message = "serving_ingress must be kourier, istio or contour."
  }
}

variable "kourier_service_type" {
  description = "Kubernetes Service type of the Kourier gateway when serving_ingress is kourier: LoadBalancer (cloud), NodePort (behind an on-premises load balancer) or ClusterIP (behind another ingress)."
  type        = string
  default     = "LoadBalancer"

  validation {
    condition     = contains(["LoadBalancer", "NodePort", "ClusterIP"], var.kourier_service_type)
    error_message = "kourier_service_type must be LoadBalancer, NodePort or ClusterIP."
  }
}

variable "enable_knative_eventing" {
  description = "Whether to install Knative Eventing (brokers, triggers, SinkBinding for the outbox relay)."
  type        = bool
  default     = true
}

variable "sinkbinding_selection_mode" {
  description = "SinkBinding webhook mode: inclusion (only namespaces/objects labelled bindings.knative.dev/include=true, as PIC's namespace is) or exclusion."
  type        = string
  default     = "inclusion"

  validation {
    condition     = contains(["inclusion", "exclusion"], var.sinkbinding_selection_mode)
    error_message = "sinkbinding_selection_mode must be inclusion or exclusion."
  }
}

variable "broker_class" {
  description = "Default broker class: Kafka (durable, the production choice: needs kafka) or MTChannelBasedBroker (in-memory channel: events are lost on restart, for test clusters only)."
  type        = string
  default     = "Kafka"

  validation {
    condition     = contains(["Kafka", "MTChannelBasedBroker"], var.broker_class)
    error_message = "broker_class must be Kafka or MTChannelBasedBroker."
  }
}

variable "kafka" {
  description = <<-EOT
    The existing Kafka cluster behind the Knative Kafka broker (required when broker_class is Kafka):
    bootstrap_servers (host:port list), topic_partitions and topic_replication_factor for broker topics,
    and auth_secret_name: a Secret in the knative-eventing namespace with the protocol, SASL and TLS
    settings (created outside Terraform, it holds credentials), or null for a plaintext cluster.
  EOT
  type = object({
    bootstrap_servers        = list(string)
    topic_partitions         = optional(number, 10)
    topic_replication_factor = optional(number, 3)
    auth_secret_name         = optional(string)
  })
  default = null

  validation {
    condition     = var.broker_class != "Kafka" || var.kafka != null
    error_message = "kafka is required when broker_class is Kafka."
  }

  validation {
    condition     = var.kafka == null || try(length(var.kafka.bootstrap_servers) > 0 && alltrue([for s in var.kafka.bootstrap_servers : can(regex("^[^:/\\s]+:[0-9]{1,5}$", s))]), false)
    error_message = "kafka.bootstrap_servers must list host:port entries."
  }

  validation {
    condition     = var.kafka == null || try(var.kafka.topic_partitions >= 1 && var.kafka.topic_replication_factor >= 1, false)
    error_message = "kafka.topic_partitions and kafka.topic_replication_factor must be at least 1."
  }
}

variable "kafka_broker_version" {
  description = "Release of knative-extensions/eventing-kafka-broker installed next to Eventing (its knative-v<version> manifests); keep its minor equal to knative_version's."
  type        = string
  default     = "1.22.0"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.kafka_broker_version))
    error_message = "kafka_broker_version must look like 1.22.0."
  }
}

# --- OPA -----------------------------------------------------------------------------------------

variable "enable_opa" {
  description = "Whether to install a central OPA (with kube-mgmt) for the cluster. Off by default: PIC's own OPA, pic-opa with its policy bundle, comes from infra/k8s/base; turn this on only for an OPA shared with other systems."
  type        = bool
  default     = false
}

variable "opa_chart_version" {
  description = "Version of the opa-kube-mgmt Helm chart (https://open-policy-agent.github.io/kube-mgmt/charts)."
  type        = string
  default     = "11.0.7"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.opa_chart_version))
    error_message = "opa_chart_version must look like 11.0.7."
  }
}

variable "opa_namespace" {
  description = "Namespace of the central OPA; kube-mgmt loads policies and data from labelled ConfigMaps there."
  type        = string
  default     = "opa"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.opa_namespace))
    error_message = "opa_namespace must be a Kubernetes DNS label."
  }
}

variable "opa_name" {
  description = "Name of the central OPA's Deployment and Service (the host of its URL)."
  type        = string
  default     = "opa"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", var.opa_name)) && var.opa_name != "pic-opa"
    error_message = "opa_name must be a Kubernetes DNS label starting with a letter, and not pic-opa (infra/k8s/base's OPA)."
  }
}

variable "opa_replicas" {
  description = "Replicas of the central OPA (each holds every policy in memory; 2 or more for availability)."
  type        = number
  default     = 2

  validation {
    condition     = var.opa_replicas >= 1 && var.opa_replicas <= 10
    error_message = "opa_replicas must be between 1 and 10."
  }
}

variable "opa_config" {
  description = "OPA configuration file as an object (services, bundles, decision_logs, ...), e.g. to load policies as a signed bundle; {} loads policies only from labelled ConfigMaps. Never enable decision logs without the input mask this module installs."
  type        = any
  default     = {}
}
