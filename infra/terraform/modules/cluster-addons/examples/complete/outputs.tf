output "opa_url" {
  description = "URL of the central OPA's REST API."
  value       = module.cluster_addons.opa_url
}

output "kafka_broker_config" {
  description = "The Kafka broker ConfigMap that PIC's Brokers use by default."
  value       = module.cluster_addons.kafka_broker_config
}

output "api_url" {
  description = "Base URL of every channel API."
  value       = module.cluster_addons.api_url
}
