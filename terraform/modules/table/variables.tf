variable "name" {
  description = "Name of the conversations table (the roots pass captionist-<env>-conversations); also the prefix of the KMS key alias."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.name))
    error_message = "The name must be 3-255 letters, digits, '_', '-' or '.'."
  }
}

variable "kms_key_arn" {
  description = "ARN of an existing customer-managed KMS key for encryption at rest. null creates a key (with yearly rotation) in this module."
  type        = string
  default     = null
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before the module-created KMS key is deleted after terraform destroy, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains(range(7, 31), var.kms_key_deletion_window_in_days)
    error_message = "The deletion window must be a whole number of days between 7 and 30."
  }
}

variable "deletion_protection_enabled" {
  description = "Refuse DeleteTable (including terraform destroy) until this is set to false and applied."
  type        = bool
  default     = true
}

variable "point_in_time_recovery_enabled" {
  description = "Continuous backups with point-in-time recovery (the last 35 days)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
