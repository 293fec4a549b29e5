# Captionist, production: the whole system, composed from ../../modules (as dev, sized for traffic).

locals {
  name = "captionist-${var.environment}"
  tags = {
    Project     = "captionist"
    Environment = var.environment
    ManagedBy   = "terraform"
  }
  self_hosted_speech = var.speech_engine == "transcribe-local"

  # What every service reads (captionist_core settings): names derive from CAPTIONIST_ENV.
  common_environment = {
    CAPTIONIST_ENV        = var.environment
    CAPTIONIST_LOG_FORMAT = "json"
    AWS_REGION            = var.region
  }
}

module "network" {
  source = "../../modules/network"

  name   = local.name
  egress = var.egress
  tags   = local.tags
}

module "queue" {
  source = "../../modules/queue"

  name = "${local.name}-segments"
  tags = local.tags
}

module "table" {
  source = "../../modules/table"

  name                        = "${local.name}-conversations"
  deletion_protection_enabled = true
  tags                        = local.tags
}

module "processor" {
  source = "../../modules/processor"

  name              = "${local.name}-processor"
  captionist_env    = var.environment
  package_path      = var.processor_package
  queue_arn         = module.queue.arn
  table_arn         = module.table.arn
  table_kms_key_arn = module.table.kms_key_arn
  tags              = local.tags
}

module "cluster" {
  source = "../../modules/cluster"

  name = local.name
  tags = local.tags
}

module "alb" {
  source = "../../modules/alb"

  name              = local.name
  vpc_id            = module.network.vpc_id
  public_subnet_ids = module.network.public_subnet_ids
  certificate_arn   = var.certificate_arn
  origin_secret     = var.origin_secret
  tags              = local.tags
}

module "ingest" {
  source = "../../modules/service"

  name                       = "${local.name}-ingest"
  cluster_arn                = module.cluster.arn
  cluster_name               = module.cluster.name
  vpc_id                     = module.network.vpc_id
  vpc_cidr                   = module.network.vpc_cidr
  subnet_ids                 = module.network.private_subnet_ids
  ingress_security_group_ids = [module.alb.security_group_id]
  # 8443: Amazon Transcribe's streaming websocket.
  egress_tcp_ports = [443, 8443]
  image            = var.images.ingest
  cpu              = 512
  memory           = 1024
  environment = merge(local.common_environment, {
    CAPTIONIST_INGEST_HOST = "0.0.0.0"
    CAPTIONIST_INGEST_PORT = "8080"
    }, local.self_hosted_speech ? {
    CAPTIONIST_INGEST_TRANSCRIBE_ENDPOINT = "http://${local.name}-transcribe-local.${local.name}.local:8080"
  } : {})
  load_balancer      = { target_group_arn = module.alb.target_group_arns["ingest"] }
  task_role_policies = { ingest = data.aws_iam_policy_document.ingest.json }
  min_count          = 2
  max_count          = 20
  tags               = local.tags
}

module "broadcaster" {
  source = "../../modules/service"

  name                       = "${local.name}-broadcaster"
  cluster_arn                = module.cluster.arn
  cluster_name               = module.cluster.name
  vpc_id                     = module.network.vpc_id
  vpc_cidr                   = module.network.vpc_cidr
  subnet_ids                 = module.network.private_subnet_ids
  ingress_security_group_ids = [module.alb.security_group_id]
  image                      = var.images.broadcaster
  environment = merge(local.common_environment, {
    CAPTIONIST_BROADCASTER_HOST = "0.0.0.0"
    CAPTIONIST_BROADCASTER_PORT = "8080"
  })
  load_balancer      = { target_group_arn = module.alb.target_group_arns["broadcaster"] }
  task_role_policies = { broadcaster = data.aws_iam_policy_document.broadcaster.json }
  min_count          = 2
  max_count          = 20
  tags               = local.tags
}

module "web" {
  source = "../../modules/web"

  name            = local.name
  api_domain_name = var.domain_name
  origin_secret   = var.origin_secret
  tags            = local.tags
}

module "alarms" {
  source = "../../modules/alarms"

  name                      = local.name
  alarm_email               = var.alarm_email
  queue_name                = module.queue.name
  dead_letter_queue_name    = module.queue.dead_letter_name
  function_name             = module.processor.function_name
  alb_arn_suffix            = module.alb.arn_suffix
  target_group_arn_suffixes = module.alb.target_group_arn_suffixes
  cluster_name              = module.cluster.name
  service_names             = [module.ingest.service_name, module.broadcaster.service_name]
  ingest_log_group_name     = module.ingest.log_group_name
  tags                      = local.tags
}
