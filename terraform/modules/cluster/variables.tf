variable "name" {
  description = "Name of the cluster and prefix of every resource of this module, e.g. captionist-dev."
  type        = string
}

variable "container_insights" {
  description = "Container Insights level: \"enabled\" (standard) or \"enhanced\" (per-task/container metrics, costs more)."
  type        = string
  default     = "enabled"
}

variable "execute_command" {
  description = <<-EOT
    ECS Exec audit settings. When enabled (the default) the cluster encrypts exec sessions with a KMS key
    and logs every session's commands and output to a KMS-encrypted CloudWatch log group. Services still
    opt in to ECS Exec one by one (the service module's enable_execute_command, false by default).
    create_kms_key: create the key (default); false: use kms_key_arn (a key whose policy lets CloudWatch
    Logs use it for the <name>-ecs-exec group). log_retention_days: retention of the session logs.
  EOT
  type = object({
    enabled            = optional(bool, true)
    create_kms_key     = optional(bool, true)
    kms_key_arn        = optional(string)
    log_retention_days = optional(number, 365)
  })
  default  = {}
  nullable = false
}

variable "default_capacity_provider_strategy" {
  description = "The cluster's default capacity provider strategy (used by services that set none): FARGATE and/or FARGATE_SPOT with base and weight. Fargate Spot does not run ARM64 tasks."
  type = list(object({
    capacity_provider = string
    base              = optional(number, 0)
    weight            = optional(number, 1)
  }))
  default = [
    { capacity_provider = "FARGATE", base = 1, weight = 1 },
  ]
  nullable = false
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
  nullable    = false
}
