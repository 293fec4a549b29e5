variable "name" {
  description = "Name of the segments queue (the roots pass captionist-<env>-segments); the dead-letter queue is <name>-dlq."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,76}$", var.name))
    error_message = "The name must be 1-76 letters, digits, '-' or '_' (room for the -dlq suffix within SQS's 80)."
  }
}

variable "visibility_timeout_seconds" {
  description = "Visibility timeout of the main queue, in seconds. Must be at least 6 times the processor Lambda's timeout (AWS's guidance for SQS event source mappings), or in-flight batches are redelivered while still being processed."
  type        = number
  default     = 60

  validation {
    condition     = contains([var.visibility_timeout_seconds], max(0, min(43200, var.visibility_timeout_seconds)))
    error_message = "The visibility timeout must be between 0 and 43200 seconds."
  }
}

variable "max_receive_count" {
  description = "Receives after which a message that keeps failing is moved to the dead-letter queue."
  type        = number
  default     = 3

  validation {
    condition     = contains(range(1, 1001), var.max_receive_count)
    error_message = "max_receive_count must be a whole number between 1 and 1000."
  }
}

variable "message_retention_seconds" {
  description = "How long the main queue keeps a message, in seconds (default 4 days)."
  type        = number
  default     = 345600

  validation {
    condition     = contains([var.message_retention_seconds], max(60, min(1209600, var.message_retention_seconds)))
    error_message = "Message retention must be between 60 and 1209600 seconds."
  }
}

variable "dead_letter_message_retention_seconds" {
  description = "How long the dead-letter queue keeps a message, in seconds (default 14 days, the maximum). Keep it longer than the main queue's: a message's age counts from its first enqueue."
  type        = number
  default     = 1209600

  validation {
    condition     = contains([var.dead_letter_message_retention_seconds], max(60, min(1209600, var.dead_letter_message_retention_seconds)))
    error_message = "Message retention must be between 60 and 1209600 seconds."
  }
}

variable "kms_key_arn" {
  description = "ARN (or ID/alias) of a customer-managed KMS key to encrypt both queues with. null uses SQS-managed encryption (SSE-SQS, no KMS cost). With a key, its policy must let the producers (ingest) use kms:GenerateDataKey and kms:Decrypt, and the processor kms:Decrypt."
  type        = string
  default     = null
}

variable "kms_data_key_reuse_period_seconds" {
  description = "With a KMS key: how long SQS reuses a data key before calling KMS again, in seconds (longer is cheaper)."
  type        = number
  default     = 300

  validation {
    condition     = contains([var.kms_data_key_reuse_period_seconds], max(60, min(86400, var.kms_data_key_reuse_period_seconds)))
    error_message = "The data key reuse period must be between 60 and 86400 seconds."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
