output "pic_config" {
  description = "Entries of the pic-config ConfigMap that this landing zone decides (private-cloud overlay)."
  value = {
    AWS_REGION            = var.alternator_region
    PIC_DYNAMODB_ENDPOINT = var.alternator_endpoint
    PIC_TABLE_PREFIX      = var.table_prefix
    AWS_ENDPOINT_URL_S3   = var.object_store_endpoint
    PIC_CAMPAIGN_BUCKET   = var.campaign_bucket
  }
}

output "kafka_broker_config" {
  description = "The cluster's default Kafka broker ConfigMap (namespace/name), for Brokers that name no config; the private-cloud overlay's Brokers name their own (kafka-broker-config in namespace pic), which must point at the same Kafka."
  value       = module.cluster_addons.kafka_broker_config
}

output "broker_class" {
  description = "Broker class the private-cloud overlay should set on PIC's Brokers (eventing.knative.dev/broker.class)."
  value       = module.cluster_addons.broker_class
}

output "api_url" {
  description = "Base URL of every channel API: the host of the private-cloud overlay's Gateway pic-api (null with api_gateway none)."
  value       = module.cluster_addons.api_url
}

output "api_gateway" {
  description = "The Gateway pic-api: host, namespace/name, class, TLS Secret and the Service (NodePort by default) the council's load balancer must send the host to."
  value       = module.cluster_addons.api_gateway
}
