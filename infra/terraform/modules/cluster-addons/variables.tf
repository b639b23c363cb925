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
  description = "Networking layer for Knative Serving: gateway-api (net-gateway-api over the API gateway's Gateway API implementation: needs api_gateway), kourier (installed by the operator), istio or contour (must already be on the cluster)."
  type        = string
  default     = "gateway-api"

  validation {
    condition     = contains(["gateway-api", "kourier", "istio", "contour"], var.serving_ingress)
    error_message = "serving_ingress must be gateway-api, kourier, istio or contour."
  }

  validation {
    condition     = var.serving_ingress != "gateway-api" || var.api_gateway != "none"
    error_message = "serving_ingress = \"gateway-api\" needs a Gateway API implementation: set api_gateway (e.g. \"istio\"), or choose kourier."
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

# --- The API host (Gateway API: infra/k8s/base/routes, docs/decisions/0015) ---------------------

variable "api_gateway" {
  description = <<-EOT
    Implementation of the Kubernetes Gateway API that serves PIC's one API host (the Gateway pic-api and
    the HTTPRoutes generated into infra/k8s/base/routes): "istio" installs the Gateway API CRDs
    (gateway_api_version, standard channel), Istio's base and istiod charts (GatewayClass istio, which
    follows the ExternalName Services Knative creates) and the two Gateways Knative's net-gateway-api uses.
    "none" installs none of it: nothing then serves the Gateway pic-api and its HTTPRoutes (a site that
    wants them installs its own implementation with a GatewayClass named istio), and each Knative Service
    answers only on its own host (<service>.pic.<serving_domain>) through serving_ingress, e.g. kourier:
    channels then have no single base URL.
  EOT
  type        = string
  default     = "istio"

  validation {
    condition     = contains(["istio", "none"], var.api_gateway)
    error_message = "api_gateway must be istio or none (then serving_ingress must not be gateway-api: kourier serves each Knative Service on its own host and nothing serves the HTTPRoutes)."
  }
}

variable "gateway_api_version" {
  description = "Release of the Kubernetes Gateway API whose standard-channel CRDs are installed (its standard-install.yaml); v1.6.1 is the version infra/k8s/schemas validates the routes against."
  type        = string
  default     = "v1.6.1"

  validation {
    condition     = can(regex("^v1\\.[0-9]+\\.[0-9]+$", var.gateway_api_version))
    error_message = "gateway_api_version must look like v1.6.1."
  }
}

variable "gateway_api_crds_url" {
  description = "Where Terraform downloads the Gateway API standard-install.yaml from (an https mirror of the release file, for sites without internet access); null: the GitHub release of gateway_api_version."
  type        = string
  default     = null

  validation {
    condition     = var.gateway_api_crds_url == null || can(regex("^https://", var.gateway_api_crds_url))
    error_message = "gateway_api_crds_url must be null or an https URL."
  }
}

variable "istio_chart_version" {
  description = "Version of Istio's base and istiod Helm charts (https://istio-release.storage.googleapis.com/charts); keep it one whose Gateway API support covers gateway_api_version."
  type        = string
  default     = "1.30.0"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.istio_chart_version))
    error_message = "istio_chart_version must look like 1.30.0."
  }
}

variable "api_host" {
  description = "The API host of this environment: the hostname of the Gateway pic-api as the infra/k8s overlay sets it (api.pic.madrid.es public, api.pic.madrid.local private). Required with an api_gateway; the TLS certificate is for it."
  type        = string
  default     = null

  validation {
    condition     = var.api_host == null || can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$", var.api_host))
    error_message = "api_host must be a DNS name such as api.pic.madrid.es."
  }

  validation {
    condition     = var.api_gateway == "none" || var.api_host != null
    error_message = "api_host is required when api_gateway is not none."
  }
}

variable "api_namespace" {
  description = "Namespace of the Gateway pic-api and its TLS Secret: PIC's namespace (infra/k8s/base sets \"pic\")."
  type        = string
  default     = "pic"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.api_namespace))
    error_message = "api_namespace must be a Kubernetes DNS label."
  }
}

variable "api_tls" {
  description = <<-EOT
    Where the certificate of the API host comes from; the Gateway pic-api reads it from the Secret
    pic-api-tls in api_namespace. source = "cert-manager": this module creates a cert-manager Certificate
    for api_host, issued by cluster_issuer (cert-manager and that ClusterIssuer must already be on the
    cluster). source = "secret": the Secret is created outside Terraform (it holds a private key), e.g.
    `kubectl -n pic create secret tls pic-api-tls --cert=... --key=...` from the site's own CA.
  EOT
  type = object({
    source         = string
    cluster_issuer = optional(string)
  })
  default = { source = "secret" }

  validation {
    condition     = contains(["cert-manager", "secret"], var.api_tls.source)
    error_message = "api_tls.source must be cert-manager or secret."
  }

  validation {
    condition     = var.api_tls.source != "cert-manager" || try(length(var.api_tls.cluster_issuer) > 0, false)
    error_message = "api_tls.cluster_issuer is required when api_tls.source is cert-manager."
  }
}

variable "api_service_type" {
  description = "Kubernetes Service type Istio gives the Gateway pic-api (all Gateways of class istio, through the class defaults): LoadBalancer (cloud), NodePort (behind an on-premises load balancer) or ClusterIP (behind another ingress). Knative's own Gateways stay ClusterIP."
  type        = string
  default     = "LoadBalancer"

  validation {
    condition     = contains(["LoadBalancer", "NodePort", "ClusterIP"], var.api_service_type)
    error_message = "api_service_type must be LoadBalancer, NodePort or ClusterIP."
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
