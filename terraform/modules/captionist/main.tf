# The whole of Captionist in one environment, composed from the other modules. envs/<env> call it
# with that environment's names, sizes and protections.

data "aws_region" "current" {}

locals {
  name               = "captionist-${var.environment}"
  tags               = merge(var.tags, { Environment = var.environment })
  self_hosted_speech = var.speech_engine == "transcribe-local"

  # What every service reads (captionist_core settings): names derive from CAPTIONIST_ENV.
  common_environment = {
    CAPTIONIST_ENV        = var.environment
    CAPTIONIST_LOG_FORMAT = "json"
    AWS_REGION            = data.aws_region.current.name
  }
}

module "network" {
  source = "../network"

  name   = local.name
  egress = var.egress
  tags   = local.tags
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
  tags              = local.tags
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

# ingest and the broadcaster: the same Fargate service module, each behind its ALB target group.
locals {
  services = {
    ingest = {
      image = var.images.ingest
      # ingest holds the audio of every open session: twice the broadcaster's size.
      cpu    = 512
      memory = 1024
      # 8443: Amazon Transcribe's streaming websocket.
      egress_tcp_ports = [443, 8443]
      environment = merge({
        CAPTIONIST_INGEST_HOST = "0.0.0.0"
        CAPTIONIST_INGEST_PORT = "8080"
        }, local.self_hosted_speech ? {
        CAPTIONIST_INGEST_TRANSCRIBE_ENDPOINT = "http://${local.name}-transcribe-local.${local.name}.local:8080"
      } : {})
      policy = data.aws_iam_policy_document.ingest.json
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
      policy = data.aws_iam_policy_document.broadcaster.json
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
  load_balancer              = { target_group_arn = module.alb.target_group_arns[each.key] }
  task_role_policies         = { (each.key) = each.value.policy }
  min_count                  = var.tasks.min
  max_count                  = var.tasks.max
  tags                       = local.tags
}

module "web" {
  source = "../web"

  name            = local.name
  api_domain_name = var.domain_name
  origin_secret   = var.origin_secret
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
  service_names             = [for service in module.service : service.service_name]
  ingest_log_group_name     = module.service["ingest"].log_group_name
  tags                      = local.tags
}
