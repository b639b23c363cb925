output "knative_serving_namespace" {
  description = "Namespace of Knative Serving, or null when not installed."
  value       = local.install_serving ? kubernetes_namespace_v1.knative_serving[0].metadata[0].name : null
}

output "knative_eventing_namespace" {
  description = "Namespace of Knative Eventing, or null when not installed."
  value       = local.install_eventing ? kubernetes_namespace_v1.knative_eventing[0].metadata[0].name : null
}

output "broker_class" {
  description = "The default broker class. PIC's Broker manifests should use the same class (annotation eventing.knative.dev/broker.class)."
  value       = local.install_eventing ? var.broker_class : null
}

output "kafka_broker_config" {
  description = "Namespace and name of the Kafka broker ConfigMap (a Broker's spec.config reference), or null without the Kafka broker."
  value = local.install_kafka ? {
    namespace = kubernetes_config_map_v1.kafka_broker_config[0].metadata[0].namespace
    name      = kubernetes_config_map_v1.kafka_broker_config[0].metadata[0].name
  } : null
}

output "opa_url" {
  description = "In-cluster URL of the central OPA's REST API, or null when enable_opa is false."
  value       = local.install_opa ? "http://${var.opa_name}.${var.opa_namespace}.svc.cluster.local:8181" : null
}

output "opa_namespace" {
  description = "Namespace where kube-mgmt loads the central OPA's policies and data from labelled ConfigMaps, or null without it."
  value       = local.install_opa ? var.opa_namespace : null
}

output "api_url" {
  description = "Base URL of every channel API (https://<api_host>), or null without an api_gateway."
  value       = local.install_istio ? "https://${var.api_host}" : null
}

output "api_gateway" {
  description = <<-EOT
    The API host's Gateway as infra/k8s/base/routes declares it, or null without an api_gateway: host,
    namespace and name of the Gateway, its GatewayClass, the TLS Secret it reads, and the Service Istio
    deploys for it (type api_service_type), whose address DNS must give the host. The address exists once
    the overlay is applied: `kubectl -n <namespace> get gateway pic-api -o jsonpath='{.status.addresses[*].value}'`.
  EOT
  value = local.install_istio ? {
    host          = var.api_host
    namespace     = var.api_namespace
    name          = local.api.gateway_name
    gateway_class = local.api.gateway_class
    tls_secret    = local.api.tls_secret
    tls_source    = var.api_tls.source
    service       = "${local.api.service}.${var.api_namespace}.svc.cluster.local"
    service_type  = var.api_service_type
  } : null
}
