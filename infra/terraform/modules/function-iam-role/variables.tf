variable "create" {
  description = "Whether to create the role and its policy. Set to false to keep the module call but create nothing."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the IAM role (PIC: \"<environment>-<function>\", e.g. \"prod-pic-consent\")."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", var.name))
    error_message = "name must be 1-64 characters of [a-zA-Z0-9+=,.@_-] (IAM's rule)."
  }
}

variable "description" {
  description = "Description of the role; defaults to one naming the service account."
  type        = string
  default     = null
}

variable "path" {
  description = "IAM path of the role."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([a-zA-Z0-9+=,.@_-]+/)*$", var.path))
    error_message = "path must start and end with \"/\"."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of a permissions boundary policy for the role, when the account requires one."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be null or an IAM policy ARN."
  }
}

variable "max_session_duration" {
  description = "Maximum session duration in seconds (3600-43200). The EKS pod identity webhook asks for 1 hour and refreshes."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "max_session_duration must be between 3600 and 43200."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider (arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>); only tokens it issues can assume the role (IRSA)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be an IAM OIDC provider ARN."
  }
}

variable "namespace" {
  description = "Kubernetes namespace of the function's service account (PIC: \"pic\")."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a Kubernetes DNS label."
  }
}

variable "service_account" {
  description = "Name of the function's Kubernetes service account; only pods running as it can assume the role (PIC: the function's name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", var.service_account))
    error_message = "service_account must be a Kubernetes DNS subdomain name."
  }
}

variable "table_permissions" {
  description = <<-EOT
    DynamoDB access, one statement each: `sid` names it, `actions` are granted on the table itself and
    `index_actions` maps an index name to the actions granted on that index only (a Query on an index is
    authorised against the index ARN). Only data-plane actions are accepted.
  EOT
  type = list(object({
    sid           = string
    table_arn     = string
    actions       = optional(list(string), [])
    index_actions = optional(map(list(string)), {})
  }))
  default = []

  validation {
    condition     = alltrue([for p in var.table_permissions : can(regex("^[A-Za-z0-9]{1,100}$", p.sid))])
    error_message = "Each sid must be 1-100 alphanumeric characters."
  }

  validation {
    condition     = length(distinct([for p in var.table_permissions : p.sid])) == length(var.table_permissions)
    error_message = "sids must be unique."
  }

  validation {
    condition     = alltrue([for p in var.table_permissions : can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[a-zA-Z0-9_.-]{3,255}$", p.table_arn))])
    error_message = "table_arn must be a DynamoDB table ARN (no wildcards, no index suffix)."
  }

  validation {
    condition = alltrue([
      for p in var.table_permissions : length(p.actions) + length(p.index_actions) > 0 && alltrue([
        for action in p.actions : contains([
          "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem",
          "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan",
          "dynamodb:UpdateItem",
        ], action)
      ])
    ])
    error_message = "Each statement needs at least one action; table actions must be DynamoDB data-plane actions (dynamodb:GetItem, dynamodb:Query, dynamodb:PutItem, ...), never wildcards or table management."
  }

  validation {
    condition = alltrue(flatten([
      for p in var.table_permissions : [
        for index, actions in p.index_actions : length(actions) > 0 && alltrue([for a in actions : contains(["dynamodb:Query", "dynamodb:Scan"], a)])
      ]
    ]))
    error_message = "index_actions may only grant dynamodb:Query or dynamodb:Scan, and at least one."
  }
}

variable "kms_key_arns" {
  description = "Customer-managed KMS keys that encrypt the tables; the role may use them only through DynamoDB (kms:ViaService)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", arn))])
    error_message = "kms_key_arns must be KMS key ARNs."
  }
}

variable "bucket_permissions" {
  description = <<-EOT
    S3 access, one statement each: `sid` names it, `actions` are object actions granted on
    `<bucket_arn>/<prefix>*` for each of `prefixes` (the whole bucket, `<bucket_arn>/*`, when empty),
    `list_bucket` adds s3:ListBucket on the bucket itself, and `kms_key_arn` (the bucket's SSE-KMS key) lets
    the role use that key only through S3 and only for that bucket (kms:Decrypt; kms:GenerateDataKey too with
    s3:PutObject). Only object data-plane actions are accepted.
  EOT
  type = list(object({
    sid         = string
    bucket_arn  = string
    actions     = optional(list(string), [])
    prefixes    = optional(list(string), [])
    list_bucket = optional(bool, false)
    kms_key_arn = optional(string)
  }))
  default = []

  validation {
    condition     = alltrue([for p in var.bucket_permissions : can(regex("^[A-Za-z0-9]{1,80}$", p.sid))])
    error_message = "Each bucket sid must be 1-80 alphanumeric characters (the module appends List and KeyThroughS3)."
  }

  validation {
    condition     = length(distinct(concat([for p in var.bucket_permissions : p.sid], [for p in var.table_permissions : p.sid]))) == length(var.bucket_permissions) + length(var.table_permissions)
    error_message = "Bucket sids must be unique, and differ from the table sids."
  }

  validation {
    condition     = alltrue([for p in var.bucket_permissions : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", p.bucket_arn))])
    error_message = "bucket_arn must be an S3 bucket ARN (no wildcards, no key)."
  }

  validation {
    condition = alltrue([
      for p in var.bucket_permissions : (length(p.actions) > 0 || p.list_bucket) && alltrue([
        for action in p.actions : contains([
          "s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject",
        ], action)
      ])
    ])
    error_message = "Each bucket statement needs an action or list_bucket; actions must be S3 object actions (s3:GetObject, s3:PutObject, s3:DeleteObject, s3:AbortMultipartUpload, s3:ListMultipartUploadParts), never wildcards or bucket management."
  }

  validation {
    condition = alltrue(flatten([
      for p in var.bucket_permissions : [for prefix in p.prefixes : can(regex("^[A-Za-z0-9!_.()'-][A-Za-z0-9!_.()'/-]{0,511}$", prefix)) && !strcontains(prefix, "..")]
    ]))
    error_message = "prefixes must be S3 key prefixes without wildcards, a leading \"/\" or \"..\"."
  }

  validation {
    condition     = alltrue([for p in var.bucket_permissions : p.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", p.kms_key_arn))])
    error_message = "kms_key_arn must be null or a KMS key ARN."
  }
}

variable "tags" {
  description = "Tags for the role."
  type        = map(string)
  default     = {}
}
