################################################################################
# Identity and placement
################################################################################

variable "name" {
  description = "Name of the service and prefix of every resource of this module, e.g. captionist-dev-ingest."
  type        = string
}

variable "cluster_arn" {
  description = "ARN of the ECS cluster (the cluster module's arn output). Its region/account/partition are reused for ARNs built here."
  type        = string
}

variable "cluster_name" {
  description = "Name of the ECS cluster (the cluster module's name output); used by Application Auto Scaling."
  type        = string
}

variable "vpc_id" {
  description = "VPC the tasks run in."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR of the VPC. When set, the tasks may open connections to container_port inside the VPC (ingest to transcribe-local). Null: no such rule."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Private subnets of the tasks (no public IP is ever assigned)."
  type        = list(string)
}

variable "ingress_security_group_ids" {
  description = "Security groups allowed to reach container_port: the ALB's, or ingest's for transcribe-local."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "egress_tcp_ports" {
  description = "TCP ports the tasks may reach anywhere (AWS APIs through VPC endpoints or NAT). Ingest adds 8443, the Transcribe streaming port."
  type        = list(number)
  default     = [443]
  nullable    = false
}

################################################################################
# Task
################################################################################

variable "image" {
  description = "Container image (an ECR image gets pull permissions scoped to its repository)."
  type        = string
}

variable "cpu" {
  description = "Task CPU units (256, 512, 1024, 2048, 4096...)."
  type        = number
  default     = 256
}

variable "memory" {
  description = "Task memory in MiB; must be valid for the cpu value."
  type        = number
  default     = 512
}

variable "cpu_architecture" {
  description = "ARM64 (Graviton, about 20% cheaper) or X86_64. The image must be built for it. Fargate Spot needs X86_64."
  type        = string
  default     = "ARM64"
}

variable "container_port" {
  description = "Port the container listens on; the app reads it from its *_PORT environment variable, so pass the same value there."
  type        = number
  default     = 8080
}

variable "environment" {
  description = "Plain environment variables of the container (e.g. CAPTIONIST_ENV, CAPTIONIST_INGEST_HOST=0.0.0.0, CAPTIONIST_INGEST_PORT=8080)."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "secrets" {
  description = "Environment variables filled from secrets: name => full ARN of an SSM parameter or a Secrets Manager secret (optionally with :json-key:: suffix). The execution role may read exactly these."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "secrets_kms_key_arns" {
  description = "Customer-managed KMS keys encrypting the secrets (the execution role gets kms:Decrypt on them). Empty for AWS-managed keys."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "health_check_path" {
  description = "HTTP path answering 200 when the app is healthy (container health check; use the same in the ALB target group)."
  type        = string
  default     = "/api/stt/healthcheck"
}

variable "container_health_check" {
  description = "Container health check. command null: python's urllib GETs http://127.0.0.1:<container_port><health_check_path> (the image must have python3). Times in seconds."
  type = object({
    command      = optional(list(string))
    interval     = optional(number, 15)
    timeout      = optional(number, 5)
    retries      = optional(number, 3)
    start_period = optional(number, 30)
  })
  default  = {}
  nullable = false
}

variable "stop_timeout" {
  description = "Seconds between SIGTERM and SIGKILL. Must exceed the app's whole graceful shutdown (ingest: shutdown_timeout 10 + end_timeout 10; broadcaster: shutdown_timeout 10). 2..120 (Fargate maximum)."
  type        = number
  default     = 30
}

variable "writable_paths" {
  description = "Container paths that must be writable despite the read-only root filesystem (e.g. [\"/tmp\"]); each gets a task ephemeral-storage volume. The Captionist services need none."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "task_role_policies" {
  description = "Least-privilege IAM policies (name => JSON) of what the app itself calls (SQS, DynamoDB, Transcribe, CloudWatch metrics...), attached inline to the task role as <name>-<key>. A map, not one nullable JSON, so that the number of policies is known at plan time even when the JSON references resources created in the same apply. Empty: no permissions."
  type        = map(string)
  default     = {}
  nullable    = false
}

################################################################################
# Logs
################################################################################

variable "log_retention_days" {
  description = "Retention of the container log group, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 30
}

variable "create_kms_key" {
  description = "Create a KMS key (with rotation) for the log group. Set false and pass kms_key_arn to use an existing key."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "KMS key encrypting the log group when create_kms_key is false (its policy must let CloudWatch Logs use it for this group)."
  type        = string
  default     = null
}

################################################################################
# Service
################################################################################

variable "load_balancer" {
  description = "ALB target group the tasks register in, on container_port. Null for services reached otherwise (transcribe-local). An object rather than a nullable ARN so that its presence is known at plan time even when the target group is created in the same apply."
  type = object({
    target_group_arn = string
  })
  default = null
}

variable "health_check_grace_period_seconds" {
  description = "Seconds ECS ignores failing load-balancer health checks after a task starts (only with load_balancer)."
  type        = number
  default     = 60
}

variable "service_discovery" {
  description = "Cloud Map private DNS namespace to register the tasks in, as A records at <name>.<namespace_name> (how ingest reaches transcribe-local). namespace_name is only used for the discovery_fqdn output. Null: no registration."
  type = object({
    namespace_id   = string
    namespace_name = optional(string)
  })
  default = null
}


variable "capacity_provider_strategy" {
  description = "Capacity provider strategy of the service (FARGATE and/or FARGATE_SPOT). Fargate Spot only runs X86_64 tasks. Example (X86_64) with Spot for everything above one on-demand task: [{ capacity_provider = \"FARGATE\", base = 1, weight = 1 }, { capacity_provider = \"FARGATE_SPOT\", weight = 3 }]."
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

variable "deployment_minimum_healthy_percent" {
  description = "Lower bound of running tasks during a deployment, in percent of desired_count (100: never below)."
  type        = number
  default     = 100
}

variable "deployment_maximum_percent" {
  description = "Upper bound of running tasks during a deployment, in percent of desired_count."
  type        = number
  default     = 200
}

variable "enable_execute_command" {
  description = "Allow ECS Exec into the tasks (off by default; for debugging only)."
  type        = bool
  default     = false
}

variable "execute_command_audit" {
  description = "The cluster's ECS Exec audit log group and session key (the cluster module's execute_command_log_group_arn and execute_command_kms_key_arn). Only used with enable_execute_command, to grant the task role what the exec agent needs. Null: no audit permissions."
  type = object({
    log_group_arn = string
    kms_key_arn   = string
  })
  default = null
}

################################################################################
# Autoscaling
################################################################################

variable "desired_count" {
  description = "Tasks at creation; afterwards autoscaling owns the count (changes are ignored)."
  type        = number
  default     = 1
}

variable "min_count" {
  description = "Autoscaling minimum number of tasks."
  type        = number
  default     = 1
}

variable "max_count" {
  description = "Autoscaling maximum number of tasks."
  type        = number
  default     = 4
}

variable "cpu_target_value" {
  description = "Target average CPU utilization (percent) of the CPU target-tracking policy."
  type        = number
  default     = 60
}

variable "metric_target" {
  description = <<-EOT
    Optional second target-tracking policy on a custom CloudWatch metric the app publishes, e.g. ingest's
    active streams per task or the broadcaster's connections per task. statistic Average over the tasks
    gives the per-task value. Null: CPU only.
  EOT
  type = object({
    namespace    = string
    metric_name  = string
    statistic    = optional(string, "Average")
    dimensions   = optional(map(string), {})
    unit         = optional(string)
    target_value = number
  })
  default = null
}

variable "scale_in_cooldown" {
  description = "Seconds after a scale-in before the next one. Long: every task removed drops its websockets."
  type        = number
  default     = 300
}

variable "scheduled_capacity" {
  description = "Scheduled changes of the autoscaling bounds, keyed by a name, e.g. business hours: { workday = { schedule = \"cron(0 8 ? * MON-FRI *)\", timezone = \"Europe/Berlin\", min = 10, max = 30 } }. Target tracking keeps running between the bounds."
  type = map(object({
    schedule = string
    timezone = optional(string, "UTC")
    min      = number
    max      = number
  }))
  default  = {}
  nullable = false
}

variable "scale_out_cooldown" {
  description = "Seconds after a scale-out before the next one."
  type        = number
  default     = 60
}

variable "tags" {
  description = "Tags added to every resource of this module (ECS propagates the service's tags to its tasks)."
  type        = map(string)
  default     = {}
  nullable    = false
}
