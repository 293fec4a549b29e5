# The whole of Captionist in one environment, composed from the other modules. envs/<env> call it
# with that environment's names, sizes and protections.

data "aws_region" "current" {}
data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  name               = "captionist-${var.environment}"
  tags               = merge(var.tags, { Environment = var.environment })
  self_hosted_speech = var.speech_engine == "transcribe-local"

  # Every service publishes its load per task here (captionist_core.task_load); the scaling
  # policies below track it, and the task policies allow PutMetricData to this namespace only.
  metrics_namespace = "Captionist"

  # What every service reads (captionist_core settings): names derive from CAPTIONIST_ENV.
  common_environment = {
    CAPTIONIST_ENV               = var.environment
    CAPTIONIST_LOG_FORMAT        = "json"
    CAPTIONIST_METRICS_NAMESPACE = local.metrics_namespace
    AWS_REGION                   = data.aws_region.current.name
  }

  # What tasks reach through interface endpoints (egress = "vpc_endpoints"): Amazon Transcribe,
  # or the signing key's secret when speech is self-hosted.
  interface_endpoint_services = concat(
    ["sqs", "logs", "ecr.api", "ecr.dkr", "monitoring"],
    local.self_hosted_speech ? ["secretsmanager"] : ["transcribestreaming"],
  )
}

module "network" {
  source = "../network"

  name                        = local.name
  egress                      = var.egress
  interface_endpoint_services = local.interface_endpoint_services
  tags                        = local.tags
}

module "queue" {
  source = "../queue"

  name = "${local.name}-segments"
  tags = local.tags
}

module "table" {
  source = "../table"

  name                        = "${local.name}-conversations"
  deletion_protection_enabled = var.deletion_protection
  tags                        = local.tags
}

module "processor" {
  source = "../processor"

  name              = "${local.name}-processor"
  captionist_env    = var.environment
  package_path      = var.processor_package
  queue_arn         = module.queue.arn
  table_arn         = module.table.arn
  table_kms_key_arn = module.table.kms_key_arn
  # The table's TTL removes a conversation's segments this many days after they were spoken.
  segment_retention_days = var.segment_retention_days
  tags                   = local.tags
}

module "cluster" {
  source = "../cluster"

  name = local.name
  tags = local.tags
}

module "alb" {
  source = "../alb"

  name                = local.name
  vpc_id              = module.network.vpc_id
  public_subnet_ids   = module.network.public_subnet_ids
  certificate_arn     = var.certificate_arn
  origin_secret       = var.origin_secret
  deletion_protection = var.deletion_protection
  tags                = local.tags
}

# ingest and the broadcaster: the same Fargate service module, each behind its ALB target group,
# each scaled on CPU and on the load per task it publishes.
locals {
  services = {
    ingest = {
      image = var.images.ingest
      # ingest holds the audio of every open session: twice the broadcaster's size.
      cpu    = 512
      memory = 1024
      # 8443: Amazon Transcribe's streaming websocket (transcribe-local is inside the VPC).
      egress_tcp_ports = local.self_hosted_speech ? [443] : [443, 8443]
      environment = merge({
        CAPTIONIST_INGEST_HOST = "0.0.0.0"
        CAPTIONIST_INGEST_PORT = "8080"
        }, local.self_hosted_speech ? {
        CAPTIONIST_INGEST_TRANSCRIBE_ENDPOINT      = "http://${local.name}-transcribe-local.${local.name}.local:8080"
        CAPTIONIST_INGEST_TRANSCRIBE_ACCESS_KEY_ID = local.signing_key_id
      } : {})
      secrets = local.self_hosted_speech ? {
        CAPTIONIST_INGEST_TRANSCRIBE_SECRET_ACCESS_KEY = aws_secretsmanager_secret_version.signing_key[0].arn
      } : {}
      secrets_kms_key_arns = local.self_hosted_speech ? [aws_kms_key.signing_key[0].arn] : []
      load_metric          = { name = "ActiveStreams", target = var.load_per_task.ingest_streams }
      policy               = data.aws_iam_policy_document.ingest.json
    }
    broadcaster = {
      image            = var.images.broadcaster
      cpu              = 256
      memory           = 512
      egress_tcp_ports = [443]
      environment = {
        CAPTIONIST_BROADCASTER_HOST = "0.0.0.0"
        CAPTIONIST_BROADCASTER_PORT = "8080"
      }
      secrets              = {}
      secrets_kms_key_arns = []
      load_metric          = { name = "ListenerConnections", target = var.load_per_task.broadcaster_connections }
      policy               = data.aws_iam_policy_document.broadcaster.json
    }
  }
}

module "service" {
  source   = "../service"
  for_each = local.services

  name                       = "${local.name}-${each.key}"
  cluster_arn                = module.cluster.arn
  cluster_name               = module.cluster.name
  vpc_id                     = module.network.vpc_id
  vpc_cidr                   = module.network.vpc_cidr
  subnet_ids                 = module.network.private_subnet_ids
  ingress_security_group_ids = [module.alb.security_group_id]
  egress_tcp_ports           = each.value.egress_tcp_ports
  image                      = each.value.image
  cpu                        = each.value.cpu
  memory                     = each.value.memory
  environment                = merge(local.common_environment, each.value.environment)
  secrets                    = each.value.secrets
  secrets_kms_key_arns       = each.value.secrets_kms_key_arns
  load_balancer              = { target_group_arn = module.alb.target_group_arns[each.key] }
  task_role_policies         = { (each.key) = each.value.policy }
  min_count                  = var.tasks.min
  max_count                  = var.tasks.max
  desired_count              = var.tasks.min
  metric_target = {
    namespace    = local.metrics_namespace
    metric_name  = each.value.load_metric.name
    dimensions   = { Environment = var.environment, Service = each.key }
    unit         = "Count"
    target_value = each.value.load_metric.target
  }
  tags = local.tags
}

module "web" {
  source = "../web"

  name            = local.name
  api_domain_name = var.domain_name
  origin_secret   = var.origin_secret
  aliases         = var.site_aliases
  certificate_arn = var.site_certificate_arn
  tags            = local.tags
}

module "alarms" {
  source = "../alarms"

  name                      = local.name
  alarm_email               = var.alarm_email
  queue_name                = module.queue.name
  dead_letter_queue_name    = module.queue.dead_letter_name
  function_name             = module.processor.function_name
  alb_arn_suffix            = module.alb.arn_suffix
  target_group_arn_suffixes = module.alb.target_group_arn_suffixes
  cluster_name              = module.cluster.name
  service_names = concat(
    [for service in module.service : service.service_name],
    [for service in module.transcribe_local : service.service_name],
  )
  ingest_log_group_name = module.service["ingest"].log_group_name
  tags                  = local.tags
}
