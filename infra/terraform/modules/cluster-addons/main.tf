locals {
  labels = merge(var.labels, {
    "app.kubernetes.io/part-of"    = "pic"
    "app.kubernetes.io/managed-by" = "terraform"
  })
  # Objects of a Helm release keep Helm's own managed-by label.
  chart_labels = merge(var.labels, { "app.kubernetes.io/part-of" = "pic" })

  install_operator = var.create && (var.enable_knative_serving || var.enable_knative_eventing)
  install_serving  = var.create && var.enable_knative_serving
  install_eventing = var.create && var.enable_knative_eventing
  install_kafka    = local.install_eventing && var.broker_class == "Kafka"
  install_opa      = var.create && var.enable_opa
  install_istio    = var.create && var.api_gateway == "istio"
  api_certificate  = local.install_istio && var.api_tls.source == "cert-manager"

  # Senders authenticate with their ServiceAccount's OIDC token, and a Broker admits only what an EventPolicy
  # allows (PIC's are generated in infra/k8s/base/senders; docs/decisions/0011).
  eventing_features = {
    "authentication-oidc"        = "enabled"
    "default-authorization-mode" = "deny-all"
  }

  ingress_classes = {
    gateway-api = "gateway-api.ingress.networking.knative.dev"
    kourier     = "kourier.ingress.networking.knative.dev"
    istio       = "istio.ingress.networking.knative.dev"
    contour     = "contour.ingress.networking.knative.dev"
  }
  # merge, not a conditional: a conditional would unify both objects into map(string) and send "true".
  ingress = merge({ enabled = true }, var.serving_ingress == "kourier" ? { "service-type" = var.kourier_service_type } : {})

  # What the API host needs (docs/decisions/0015): names shared by this module's Gateways, Knative's
  # config-gateway and the generated Gateway pic-api (infra/k8s/base/routes).
  api = {
    gateway_class = "istio"
    gateway_name  = "pic-api"
    tls_secret    = "pic-api-tls"
    # Istio names the Service it deploys for a Gateway <name>-<class>.
    service = "pic-api-istio"
  }
  istio_namespace      = "istio-system"
  istio_charts         = "https://istio-release.storage.googleapis.com/charts"
  gateway_api_crds_url = coalesce(var.gateway_api_crds_url, "https://github.com/kubernetes-sigs/gateway-api/releases/download/${var.gateway_api_version}/standard-install.yaml")

  # Knative's own Gateways for net-gateway-api: the external one (Knative's public hosts) and the
  # cluster-local one, which the ExternalName Services of Knative Services (the HTTPRoutes' backends)
  # point at. Both ClusterIP: the channels' only way in is the Gateway pic-api.
  knative_gateways = {
    external = { name = "knative-gateway", service = "knative-gateway-istio" }
    local    = { name = "knative-local-gateway", service = "knative-local-gateway-istio" }
  }
  knative_gateway_config = {
    "external-gateways" = yamlencode([{
      class   = local.api.gateway_class
      gateway = "${local.istio_namespace}/${local.knative_gateways.external.name}"
      service = "${local.istio_namespace}/${local.knative_gateways.external.service}"
    }])
    "local-gateways" = yamlencode([{
      class   = local.api.gateway_class
      gateway = "${local.istio_namespace}/${local.knative_gateways.local.name}"
      service = "${local.istio_namespace}/${local.knative_gateways.local.service}"
    }])
  }

  # Only the CustomResourceDefinitions of the release file, without the server-set fields that
  # kubernetes_manifest refuses (status, metadata.creationTimestamp). The condition is on the list, not
  # the map: a conditional between this object and {} has inconsistent types.
  gateway_api_documents = local.install_istio ? split("\n---", data.http.gateway_api_crds[0].response_body) : []
  gateway_api_crds = {
    for doc in [for part in local.gateway_api_documents : try(yamldecode(part), null)] :
    doc.metadata.name => {
      apiVersion = doc.apiVersion
      kind       = doc.kind
      metadata = {
        name        = doc.metadata.name
        annotations = try(doc.metadata.annotations, {})
        labels      = try(doc.metadata.labels, {})
      }
      spec = doc.spec
    } if try(doc.kind, null) == "CustomResourceDefinition"
  }

  kafka_broker_config_name = "pic-kafka-broker-config"
  kafka_broker_manifests   = "https://github.com/knative-extensions/eventing-kafka-broker/releases/download/knative-v${var.kafka_broker_version}"

  # Brokers that do not name a class get this one (config-br-defaults).
  default_broker_config = var.broker_class == "Kafka" ? {
    clusterDefault = {
      brokerClass = "Kafka"
      apiVersion  = "v1"
      kind        = "ConfigMap"
      name        = local.kafka_broker_config_name
      namespace   = "knative-eventing"
    }
    } : {
    clusterDefault = {
      brokerClass = "MTChannelBasedBroker"
      apiVersion  = "v1"
      kind        = "ConfigMap"
      name        = "config-br-default-channel"
      namespace   = "knative-eventing"
    }
  }
}

# --- Knative Operator, then Serving and Eventing as its custom resources -------------------------

resource "helm_release" "knative_operator" {
  count = local.install_operator ? 1 : 0

  name             = "knative-operator"
  repository       = "https://knative.github.io/operator"
  chart            = "knative-operator"
  version          = var.knative_operator_chart_version
  namespace        = "knative-operator"
  create_namespace = true
  atomic           = true
  wait             = true
  timeout          = 600
}

resource "kubernetes_namespace_v1" "knative_serving" {
  count = local.install_serving ? 1 : 0

  metadata {
    name   = "knative-serving"
    labels = local.labels
  }
}

resource "kubernetes_manifest" "knative_serving" {
  count = local.install_serving ? 1 : 0

  manifest = {
    apiVersion = "operator.knative.dev/v1beta1"
    kind       = "KnativeServing"
    metadata = {
      name      = "knative-serving"
      namespace = kubernetes_namespace_v1.knative_serving[0].metadata[0].name
      labels    = local.labels
    }
    spec = {
      version = var.knative_version
      ingress = {
        (var.serving_ingress) = local.ingress
      }
      config = merge(
        {
          network = {
            "ingress-class" = local.ingress_classes[var.serving_ingress]
          }
          domain = { for domain in compact([var.serving_domain]) : domain => "" }
          features = {
            # PIC's functions mount an emptyDir on /tmp under a read-only root filesystem.
            "kubernetes.podspec-volumes-emptydir" = "enabled"
          }
        },
        # net-gateway-api's config-gateway: the Gateways it attaches Knative's routes to.
        var.serving_ingress == "gateway-api" ? { gateway = local.knative_gateway_config } : {},
      )
      "high-availability" = {
        replicas = var.control_plane_replicas
      }
    }
  }

  wait {
    condition {
      type   = "Ready"
      status = "True"
    }
  }

  timeouts {
    create = "15m"
    update = "15m"
  }

  # net-gateway-api attaches Knative's routes to the Gateways of helm_release.knative_gateways.
  depends_on = [helm_release.knative_operator, helm_release.knative_gateways]
}

resource "kubernetes_namespace_v1" "knative_eventing" {
  count = local.install_eventing ? 1 : 0

  metadata {
    name   = "knative-eventing"
    labels = local.labels
  }
}

# Settings of the Knative Kafka broker: where Kafka is and how broker topics are made. The auth Secret,
# when named, is created outside Terraform (it holds credentials).
resource "kubernetes_config_map_v1" "kafka_broker_config" {
  count = local.install_kafka ? 1 : 0

  metadata {
    name      = local.kafka_broker_config_name
    namespace = kubernetes_namespace_v1.knative_eventing[0].metadata[0].name
    labels    = local.labels
  }

  data = merge(
    {
      "bootstrap.servers"                = join(",", var.kafka.bootstrap_servers)
      "default.topic.partitions"         = tostring(var.kafka.topic_partitions)
      "default.topic.replication.factor" = tostring(var.kafka.topic_replication_factor)
    },
    var.kafka.auth_secret_name == null ? {} : { "auth.secret.ref.name" = var.kafka.auth_secret_name },
  )
}

resource "kubernetes_manifest" "knative_eventing" {
  count = local.install_eventing ? 1 : 0

  manifest = {
    apiVersion = "operator.knative.dev/v1beta1"
    kind       = "KnativeEventing"
    metadata = {
      name      = "knative-eventing"
      namespace = kubernetes_namespace_v1.knative_eventing[0].metadata[0].name
      labels    = local.labels
    }
    spec = merge(
      {
        version                  = var.knative_version
        sinkBindingSelectionMode = var.sinkbinding_selection_mode
        config = {
          "br-defaults" = {
            "default-br-config" = yamlencode(local.default_broker_config)
          }
          "config-features" = local.eventing_features
        }
        "high-availability" = {
          replicas = var.control_plane_replicas
        }
      },
      # The Kafka broker ships outside Eventing core: the operator installs its released manifests.
      local.install_kafka ? {
        additionalManifests = [
          { URL = "${local.kafka_broker_manifests}/eventing-kafka-controller.yaml" },
          { URL = "${local.kafka_broker_manifests}/eventing-kafka-broker.yaml" },
        ]
      } : {},
    )
  }

  wait {
    condition {
      type   = "Ready"
      status = "True"
    }
  }

  timeouts {
    create = "15m"
    update = "15m"
  }

  depends_on = [helm_release.knative_operator, kubernetes_config_map_v1.kafka_broker_config]
}

# --- The API host: Gateway API CRDs, Istio, Knative's Gateways, the certificate ----------------------

# The standard channel of the pinned Gateway API release, as its maintainers publish it (one CRD per
# resource, each applied server-side). CRDs are built-in kinds, so this plans on an empty cluster.
data "http" "gateway_api_crds" {
  count = local.install_istio ? 1 : 0

  url = local.gateway_api_crds_url

  lifecycle {
    postcondition {
      condition     = self.status_code == 200
      error_message = "Could not download ${local.gateway_api_crds_url} (HTTP ${self.status_code}): check gateway_api_version, or mirror the file."
    }
  }
}

resource "kubernetes_manifest" "gateway_api_crds" {
  for_each = local.gateway_api_crds

  manifest = each.value

  field_manager {
    name            = "pic-terraform"
    force_conflicts = true
  }
}

# Istio's CRDs and cluster roles, then its control plane; istiod implements the GatewayClass istio and
# deploys one Envoy (Deployment and Service <gateway>-istio) per Gateway of that class.
resource "helm_release" "istio_base" {
  count = local.install_istio ? 1 : 0

  name             = "istio-base"
  repository       = local.istio_charts
  chart            = "base"
  version          = var.istio_chart_version
  namespace        = local.istio_namespace
  create_namespace = true
  atomic           = true
  wait             = true
  timeout          = 600

  values = [yamlencode({
    defaultRevision = "default"
  })]

  depends_on = [kubernetes_manifest.gateway_api_crds]
}

resource "helm_release" "istiod" {
  count = local.install_istio ? 1 : 0

  name       = "istiod"
  repository = local.istio_charts
  chart      = "istiod"
  version    = var.istio_chart_version
  namespace  = local.istio_namespace
  atomic     = true
  wait       = true
  timeout    = 600

  values = [yamlencode({
    pilot = {
      autoscaleMin = var.control_plane_replicas
      # Gateway API support (on by default; stated because the API host depends on it).
      env = { PILOT_ENABLE_GATEWAY_API = "true" }
    }
  })]

  depends_on = [helm_release.istio_base]
}

# Knative's two Gateways, the Service type of the class's Gateways, and (with cert-manager) the API
# host's certificate: objects of CRDs this apply creates, so a local chart (applied at apply time)
# rather than kubernetes_manifest (which needs the CRD when planning).
resource "helm_release" "knative_gateways" {
  count = local.install_istio ? 1 : 0

  name      = "pic-knative-gateways"
  chart     = "${path.module}/charts/pic-gateways"
  namespace = local.istio_namespace
  atomic    = true
  wait      = true
  timeout   = 300

  values = [yamlencode({
    gatewayClass    = local.api.gateway_class
    classDefaults   = { enabled = true, serviceType = var.api_service_type }
    knativeGateways = [for gateway in values(local.knative_gateways) : gateway.name]
    labels          = local.chart_labels
  })]

  depends_on = [helm_release.istiod]
}

resource "helm_release" "api_certificate" {
  count = local.api_certificate ? 1 : 0

  name             = "pic-api-certificate"
  chart            = "${path.module}/charts/pic-gateways"
  namespace        = var.api_namespace
  create_namespace = true # infra/k8s/base's namespace.yaml adopts it, labels included
  atomic           = true
  wait             = true
  timeout          = 300

  values = [yamlencode({
    gatewayClass = local.api.gateway_class
    labels       = local.chart_labels
    certificate = {
      enabled       = true
      name          = local.api.gateway_name
      secretName    = local.api.tls_secret
      host          = var.api_host
      clusterIssuer = var.api_tls.cluster_issuer
    }
  })]

  depends_on = [helm_release.knative_gateways]
}

# --- OPA -----------------------------------------------------------------------------------------

# Optional central OPA with kube-mgmt (PIC's own OPA, pic-opa, is a base manifest in infra/k8s): policies
# and data come from ConfigMaps labelled openpolicyagent.org/policy=rego and openpolicyagent.org/data=opa in
# opa_namespace (or from bundles in opa_config). The OPA API requires kube-mgmt's token for everything but
# reading decisions, so a pod in the cluster can ask but never change a policy. (The chart writes these
# policies through an unquoted shell heredoc: no "$" in them.)
resource "helm_release" "opa" {
  count = local.install_opa ? 1 : 0

  name             = var.opa_name
  repository       = "https://open-policy-agent.github.io/kube-mgmt/charts"
  chart            = "opa-kube-mgmt"
  version          = var.opa_chart_version
  namespace        = var.opa_namespace
  create_namespace = true
  atomic           = true
  wait             = true
  timeout          = 600

  values = [yamlencode({
    fullnameOverride = var.opa_name
    replicas         = var.opa_replicas
    useHttps         = false
    logFormat        = "json"
    opa              = var.opa_config
    authz = {
      enabled = true
    }
    bootstrapPolicies = {
      pic_authz = <<-EOT
        package system.authz

        # Clients may read decisions (POST or GET /v1/data/...), nothing else.
        allow if {
          input.method in {"GET", "POST"}
          input.path[0] == "v1"
          input.path[1] == "data"
        }
      EOT
      pic_log   = <<-EOT
        package system.log

        # Decision logs never carry the raw input (it may hold personal data).
        mask contains "/input"
      EOT
    }
    mgmt = {
      namespaces = [var.opa_namespace]
      policies   = { enabled = true }
      data       = { enabled = true }
      startupProbe = {
        httpGet = { path = "/health", port = 8181, scheme = "HTTP" }
      }
    }
    podDisruptionBudget = {
      enabled      = var.opa_replicas > 1
      minAvailable = 1
    }
    securityContext = {
      enabled      = true
      runAsNonRoot = true
      runAsUser    = 65532
    }
    resources = {
      requests = { cpu = "100m", memory = "128Mi" }
      limits   = { memory = "512Mi" }
    }
  })]
}
