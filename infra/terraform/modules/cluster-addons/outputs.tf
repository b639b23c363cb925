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
