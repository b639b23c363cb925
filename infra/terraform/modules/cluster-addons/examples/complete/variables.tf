variable "kubeconfig_path" {
  description = "Path of the kubeconfig file for the target cluster."
  type        = string
  default     = "~/.kube/config"
}

variable "kube_context" {
  description = "kubeconfig context of the target cluster, or null for the current one."
  type        = string
  default     = null
}
