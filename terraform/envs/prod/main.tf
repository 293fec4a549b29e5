# Captionist, production: the whole system. modules/captionist composes every part:
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
  # Busy: audio to Transcribe through endpoints avoids the NAT gateway's per-GB charge.
  egress              = "vpc_endpoints"
  deletion_protection = true
  tasks               = { min = 2, max = 20 }
  tags                = local.tags
}
