variable "create" {
  description = "Whether to create the table. Set to false to keep the module call but create nothing."
  type        = bool
  default     = true
}

variable "name" {
  description = "Physical table name, including the environment prefix (PIC: \"<PIC_TABLE_PREFIX><domain>\", e.g. \"pic-consent\")."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.name))
    error_message = "name must be 3-255 characters of [a-zA-Z0-9_.-] (DynamoDB's rule)."
  }
}

variable "hash_key" {
  description = "Attribute name of the partition (hash) key; it must be declared in attributes."
  type        = string

  validation {
    condition     = length(var.hash_key) > 0 && length(var.hash_key) <= 255
    error_message = "hash_key must be 1-255 characters."
  }
}

variable "range_key" {
  description = "Attribute name of the sort (range) key, or null for a hash-only table; it must be declared in attributes."
  type        = string
  default     = null

  validation {
    condition     = var.range_key == null || try(length(var.range_key) > 0 && length(var.range_key) <= 255, false)
    error_message = "range_key must be null or 1-255 characters."
  }
}

variable "attributes" {
  description = "Key attributes of the table and its indexes, each with its type: S (string), N (number) or B (binary). DynamoDB accepts only attributes that are part of a key."
  type = list(object({
    name = string
    type = string
  }))

  validation {
    condition     = length(var.attributes) > 0 && alltrue([for a in var.attributes : contains(["S", "N", "B"], a.type)])
    error_message = "attributes must be non-empty and every type one of S, N, B."
  }

  validation {
    condition     = length(distinct([for a in var.attributes : a.name])) == length(var.attributes)
    error_message = "attribute names must be unique."
  }
}

variable "global_secondary_indexes" {
  description = "Global secondary indexes. projection_type is ALL, KEYS_ONLY or INCLUDE (then non_key_attributes lists the projected attributes). read/write capacity apply only with PROVISIONED billing."
  type = list(object({
    name               = string
    hash_key           = string
    range_key          = optional(string)
    projection_type    = optional(string, "ALL")
    non_key_attributes = optional(list(string), [])
    read_capacity      = optional(number)
    write_capacity     = optional(number)
  }))
  default = []

  validation {
    condition     = alltrue([for i in var.global_secondary_indexes : contains(["ALL", "KEYS_ONLY", "INCLUDE"], i.projection_type)])
    error_message = "projection_type must be ALL, KEYS_ONLY or INCLUDE."
  }

  validation {
    condition     = alltrue([for i in var.global_secondary_indexes : i.projection_type == "INCLUDE" || length(i.non_key_attributes) == 0])
    error_message = "non_key_attributes can only be given with projection_type INCLUDE."
  }

  validation {
    condition     = length(distinct([for i in var.global_secondary_indexes : i.name])) == length(var.global_secondary_indexes)
    error_message = "index names must be unique."
  }

  validation {
    condition     = alltrue([for i in var.global_secondary_indexes : can(regex("^[a-zA-Z0-9_.-]{3,255}$", i.name))])
    error_message = "index names must be 3-255 characters of [a-zA-Z0-9_.-]."
  }
}

variable "billing_mode" {
  description = "PAY_PER_REQUEST (on demand, the default: no capacity planning, scales with campaigns) or PROVISIONED."
  type        = string
  default     = "PAY_PER_REQUEST"

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.billing_mode)
    error_message = "billing_mode must be PAY_PER_REQUEST or PROVISIONED."
  }
}

variable "read_capacity" {
  description = "Read capacity units; only with PROVISIONED billing."
  type        = number
  default     = null

  validation {
    condition     = var.read_capacity == null || try(var.read_capacity >= 1, false)
    error_message = "read_capacity must be null or at least 1."
  }
}

variable "write_capacity" {
  description = "Write capacity units; only with PROVISIONED billing."
  type        = number
  default     = null

  validation {
    condition     = var.write_capacity == null || try(var.write_capacity >= 1, false)
    error_message = "write_capacity must be null or at least 1."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the table at rest (required: PIC tables hold personal data)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); aliases and AWS-owned keys are not accepted."
  }
}

variable "point_in_time_recovery_enabled" {
  description = "Whether point-in-time recovery (continuous backups) is on. Keep it on for every environment that holds real data."
  type        = bool
  default     = true
}

variable "point_in_time_recovery_period_in_days" {
  description = "How many days back point-in-time recovery can restore (1-35)."
  type        = number
  default     = 35

  validation {
    condition     = var.point_in_time_recovery_period_in_days >= 1 && var.point_in_time_recovery_period_in_days <= 35
    error_message = "point_in_time_recovery_period_in_days must be between 1 and 35."
  }
}

variable "ttl_attribute_name" {
  description = "Name of the Number attribute holding each item's expiry (epoch seconds), or null for no TTL. PIC models use \"expires_at\"."
  type        = string
  default     = null

  validation {
    condition     = var.ttl_attribute_name == null || try(length(var.ttl_attribute_name) > 0 && length(var.ttl_attribute_name) <= 255, false)
    error_message = "ttl_attribute_name must be null or 1-255 characters."
  }
}

variable "deletion_protection_enabled" {
  description = "Whether DynamoDB refuses to delete the table (turn off only to tear down a throwaway environment)."
  type        = bool
  default     = true
}

variable "table_class" {
  description = "STANDARD or STANDARD_INFREQUENT_ACCESS."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "STANDARD_INFREQUENT_ACCESS"], var.table_class)
    error_message = "table_class must be STANDARD or STANDARD_INFREQUENT_ACCESS."
  }
}

variable "stream_enabled" {
  description = "Whether DynamoDB Streams is on (e.g. for a Streams-driven outbox relay)."
  type        = bool
  default     = false
}

variable "stream_view_type" {
  description = "What the stream records when stream_enabled: KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES."
  type        = string
  default     = "NEW_IMAGE"

  validation {
    condition     = contains(["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"], var.stream_view_type)
    error_message = "stream_view_type must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES."
  }
}

variable "tags" {
  description = "Tags for the table (a Name tag with the table name is added)."
  type        = map(string)
  default     = {}
}
