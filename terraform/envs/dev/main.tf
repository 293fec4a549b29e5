# Captionist, development: the whole system. modules/captionist composes every part:
# network, queue + dead-letter queue, table, processor (Lambda), ECS cluster, ALB, the ingest and
# broadcaster services, web (S3 + CloudFront) and alarms. This root sets what differs per environment.

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
  # Idle most of the time: one NAT gateway costs less than seven interface endpoints.
  egress              = "nat_gateway"
  deletion_protection = false
  tasks               = { min = 1, max = 4 }
  tags                = local.tags
}
