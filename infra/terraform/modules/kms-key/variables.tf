variable "create" {
  description = "Whether to create the key (and its aliases). Set to false to keep the module call but create nothing."
  type        = bool
  default     = true
}

variable "description" {
  description = "What the key protects, shown in the KMS console (e.g. \"PIC DynamoDB tables\")."
  type        = string

  validation {
    condition     = length(trimspace(var.description)) > 0 && length(var.description) <= 8192
    error_message = "description must be 1-8192 characters."
  }
}

variable "aliases" {
  description = "Alias names for the key, without the \"alias/\" prefix (e.g. [\"pic/dynamodb\"])."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for alias in var.aliases : can(regex("^[a-zA-Z0-9/_-]{1,250}$", alias)) && !startswith(alias, "aws/") && !startswith(alias, "alias/")
    ])
    error_message = "Each alias is 1-250 characters of [a-zA-Z0-9/_-], without the \"alias/\" prefix, and must not start with the reserved \"aws/\"."
  }
}

variable "deletion_window_in_days" {
  description = "Days a key scheduled for deletion can still be recovered (7-30). Tables encrypted with a deleted key become unreadable."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "enable_key_rotation" {
  description = "Whether KMS rotates the key material automatically (ENS/ISO 27001 controls expect it on)."
  type        = bool
  default     = true
}

variable "rotation_period_in_days" {
  description = "Days between automatic rotations (90-2560) when rotation is on."
  type        = number
  default     = 365

  validation {
    condition     = var.rotation_period_in_days >= 90 && var.rotation_period_in_days <= 2560
    error_message = "rotation_period_in_days must be between 90 and 2560."
  }
}

variable "multi_region" {
  description = "Whether to create a multi-Region primary key (needed only for cross-Region replicas of encrypted data)."
  type        = bool
  default     = false
}

variable "key_administrators" {
  description = "IAM principal ARNs allowed to manage (but not use) the key. The account root always keeps access, so IAM policies can grant more."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.key_administrators : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:", arn))])
    error_message = "key_administrators must be IAM ARNs (arn:aws:iam::<account>:role/... or :user/...)."
  }
}

variable "key_users" {
  description = "IAM principal ARNs allowed to use the key for data through the services in key_user_via_services. Function roles usually get this through their own IAM policy instead."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.key_users : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:", arn))])
    error_message = "key_users must be IAM ARNs."
  }
}

variable "key_user_via_services" {
  description = "AWS services (endpoint prefixes such as \"dynamodb\") through which key_users may use the key; use outside them is denied."
  type        = list(string)
  default     = ["dynamodb"]

  validation {
    condition     = length(var.key_user_via_services) > 0 && alltrue([for s in var.key_user_via_services : can(regex("^[a-z0-9-]+$", s))])
    error_message = "key_user_via_services must list at least one service endpoint prefix such as \"dynamodb\"."
  }
}

variable "tags" {
  description = "Tags for the key."
  type        = map(string)
  default     = {}
}
