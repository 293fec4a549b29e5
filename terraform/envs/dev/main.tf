# Captionist, development: the whole system. modules/captionist composes every part:
# network, queue + dead-letter queue, table, processor (Lambda), ECS cluster, ALB, the ingest and
# broadcaster services (and, with speech_engine = "transcribe-local", self-hosted speech
# recognition), web (S3 + CloudFront) and alarms. This root sets what differs per environment.

locals {
  tags = {
    Project     = "captionist"
    Environment = var.environment
    ManagedBy   = "terraform"
  }
}

module "captionist" {
  source = "../../modules/captionist"

  environment       = var.environment
  images            = var.images
  domain_name       = var.domain_name
  certificate_arn   = var.certificate_arn
  origin_secret     = var.origin_secret
  processor_package = var.processor_package
  alarm_email       = var.alarm_email

  speech_engine          = var.speech_engine
  transcribe_local       = var.transcribe_local
  signing_key_version    = var.signing_key_version
  segment_retention_days = var.segment_retention_days
  site_aliases           = var.site_aliases
  site_certificate_arn   = var.site_certificate_arn
  # Idle most of the time: one NAT gateway costs less than seven interface endpoints.
  egress              = "nat_gateway"
  deletion_protection = false
  tasks               = { min = 1, max = 4 }
  tags                = local.tags
}
