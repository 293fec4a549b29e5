variable "name" {
  description = "Prefix of every resource name (the roots pass captionist-<env>): topic <name>-alarms, alarms <name>-<what>, metric namespace Captionist/<name>."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,200}$", var.name))
    error_message = "The name must be 1-200 letters, digits, '-' or '_'."
  }
}

variable "alarm_email" {
  description = "Email address subscribed to the alarm topic (the recipient must confirm the subscription); null subscribes nobody."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "ARN of a customer-managed KMS key for the topic. null creates one (with rotation). Its policy must let cloudwatch.amazonaws.com use kms:GenerateDataKey* and kms:Decrypt; the AWS managed alias/aws/sns cannot be used, because CloudWatch alarms cannot publish to a topic encrypted with it."
  type        = string
  default     = null
}

variable "queue_name" {
  description = "Name of the segments queue (the queue module's name output)."
  type        = string
}

variable "dead_letter_queue_name" {
  description = "Name of the segments dead-letter queue (the queue module's dead_letter_name output)."
  type        = string
}

variable "queue_age_threshold_seconds" {
  description = "Alarm when the oldest message in the segments queue is older than this, in seconds: captions are late."
  type        = number
  default     = 60
}

variable "function_name" {
  description = "Name of the processor Lambda function (the processor module's function_name output)."
  type        = string
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the load balancer (app/<name>/<id>), its CloudWatch LoadBalancer dimension."
  type        = string
}

variable "target_group_arn_suffixes" {
  description = "Target groups to watch: a short name (ingest, broadcaster...) to the target group's ARN suffix (targetgroup/<name>/<id>)."
  type        = map(string)
  default     = {}
}

variable "alb_5xx_threshold" {
  description = "Alarm when a minute has more 5XX responses than this (load balancer's own, and per target group)."
  type        = number
  default     = 0
}

variable "cluster_name" {
  description = "Name of the ECS cluster the services run in."
  type        = string
}

variable "service_names" {
  description = "Names of the ECS services to watch for CPU and memory."
  type        = list(string)
  default     = []
}

variable "ecs_cpu_threshold_percent" {
  description = "Alarm when a service's average CPU utilization stays above this percentage for ecs_evaluation_periods minutes."
  type        = number
  default     = 80
}

variable "ecs_memory_threshold_percent" {
  description = "Alarm when a service's average memory utilization stays above this percentage for ecs_evaluation_periods minutes."
  type        = number
  default     = 80
}

variable "ecs_evaluation_periods" {
  description = "Consecutive one-minute periods a service must stay above a CPU or memory threshold before its alarm fires."
  type        = number
  default     = 5

  validation {
    condition     = contains(range(1, 61), var.ecs_evaluation_periods)
    error_message = "ecs_evaluation_periods must be a whole number between 1 and 60."
  }
}

variable "ingest_log_group_name" {
  description = "CloudWatch log group of the ingest service, where each session's speaker_session summary line (JSON) lands."
  type        = string
}

variable "ingest_upstream_errors_threshold" {
  description = "Alarm when more speaker sessions than this end with an upstream_* outcome in a minute."
  type        = number
  default     = 0
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
