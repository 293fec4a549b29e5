variable "name" {
  description = "Name of the Lambda function; also the prefix of its IAM role and the name part of its log group (the roots pass captionist-<env>-processor)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,59}$", var.name))
    error_message = "The name must be 1-59 letters, digits, '-' or '_' (room for the IAM role's -role suffix within 64)."
  }
}

variable "captionist_env" {
  description = "Environment name given to the code as CAPTIONIST_ENV (dev, prod...): it names the queue and table the code expects."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]{1,20}$", var.captionist_env))
    error_message = "captionist_env must match ^[a-z0-9-]{1,20}$, as the code validates CAPTIONIST_ENV."
  }
}

variable "package_path" {
  description = "Path of the deployment zip built by make package (the processor, captionist-core and their dependencies, built for var.architecture)."
  type        = string
}

variable "handler" {
  description = "The function's entry point."
  type        = string
  default     = "captionist_processor.handler.lambda_handler"
}

variable "runtime" {
  description = "Lambda runtime; the code requires Python 3.11 or later."
  type        = string
  default     = "python3.11"
}

variable "architecture" {
  description = "Instruction set: arm64 (Graviton, about 20% cheaper per GB-second) or x86_64. The zip's compiled wheels (pydantic-core) must be built for it."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "The architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory of the function in MB (CPU scales with it)."
  type        = number
  default     = 256

  validation {
    condition     = contains([var.memory_size], max(128, min(10240, var.memory_size)))
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Function timeout in seconds. The queue's visibility timeout must be at least 6 times this."
  type        = number
  default     = 10

  validation {
    condition     = contains(range(1, 901), var.timeout)
    error_message = "The timeout must be a whole number of seconds between 1 and 900."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for (and capping) the function; null reserves none (the event source mapping's maximum_concurrency still caps the queue's pollers)."
  type        = number
  default     = null
}

variable "segment_retention_days" {
  description = "CAPTIONIST_PROCESSOR_RETENTION_DAYS: days a segment is kept after stabilization (items get expiresAt, the table's TTL attribute); 0 keeps segments forever."
  type        = number
  default     = 0

  validation {
    condition     = can(regex("^[0-9]+$", tostring(var.segment_retention_days)))
    error_message = "segment_retention_days must be a whole number >= 0."
  }
}

variable "log_level" {
  description = "CAPTIONIST_LOG_LEVEL of the function (DEBUG, INFO, WARNING, ERROR)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL."
  }
}

variable "log_retention_in_days" {
  description = "Days CloudWatch Logs keeps the function's logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of a KMS key for the log group; null uses CloudWatch Logs' own encryption. The key's policy must allow the logs.<region>.amazonaws.com service principal."
  type        = string
  default     = null
}

variable "queue_arn" {
  description = "ARN of the segments queue (the queue module's arn output): the event source, and the only queue the role may read."
  type        = string
}

variable "queue_kms_key_arn" {
  description = "ARN of the KMS key the queue is encrypted with, if a customer-managed one (the role then gets kms:Decrypt on it); null for SSE-SQS."
  type        = string
  default     = null
}

variable "table_arn" {
  description = "ARN of the conversations table (the table module's arn output): the only table the role may write; the function is told its name (CAPTIONIST_TABLE_NAME)."
  type        = string
}

variable "table_kms_key_arn" {
  description = "ARN of the table's customer-managed KMS key (the table module's kms_key_arn output); the role may use it only through DynamoDB. null if the table uses an AWS-owned key."
  type        = string
  default     = null
}

variable "batch_size" {
  description = "Messages per invocation (the code's CAPTIONIST_PROCESSOR_BATCH_SIZE, at most 10 without a batching window)."
  type        = number
  default     = 10

  validation {
    condition     = contains(range(1, 11), var.batch_size)
    error_message = "batch_size must be a whole number between 1 and 10."
  }
}

variable "maximum_concurrency" {
  description = "Most concurrent invocations the SQS event source mapping starts (2-1000); null lets it scale up to the account's limit."
  type        = number
  default     = 10

  validation {
    condition     = try(contains(range(2, 1001), var.maximum_concurrency), true)
    error_message = "maximum_concurrency must be null or a whole number between 2 and 1000."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
