variable "create" {
  description = "Whether to create anything (false: a module call that creates nothing, e.g. in an environment without the batch)."
  type        = bool
  default     = true
}

variable "name" {
  description = "The EMR Serverless application's name (and the prefix of its job role)."
  type        = string
  default     = "pic-c360-spark"
}

variable "release_label" {
  description = "The EMR release: Spark 4.0 on Java 17, as PySpark 4.0.1 in make bench (requirements-spark.txt)."
  type        = string
  default     = "emr-7.9.0"
}

variable "batch_bucket" {
  description = "The S3 bucket of the batch: input/ (the area records' rows), runs/ (clusters, pairs), code/ (the job's archive)."
  type        = string
}

variable "kms_key_arn" {
  description = "The customer-managed key the batch bucket is encrypted with (null: S3-managed keys)."
  type        = string
  default     = null
}

variable "max_vcpu" {
  description = "The application's ceiling of vCPUs across workers (docs/benchmarks.md: 2 workers × 4 vCPU and a 2-vCPU driver link the city in under 15 minutes; the ceiling leaves room for reruns)."
  type        = number
  default     = 32
}

variable "max_memory_gb" {
  description = "The application's ceiling of memory across workers, in GB."
  type        = number
  default     = 128
}

variable "executors" {
  description = "Executors of one linkage run."
  type        = number
  default     = 2
}

variable "subnet_ids" {
  description = "Private subnets for the workers (empty: EMR Serverless's own network, no VPC access)."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups of the workers when subnet_ids is set."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
