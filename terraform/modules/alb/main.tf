data "aws_ec2_managed_prefix_list" "cloudfront" {
  name = "com.amazonaws.global.cloudfront.origin-facing"
}

data "aws_vpc" "this" {
  id = var.vpc_id
}

locals {
  origin_header = "X-Captionist-Origin"
  target_port   = 8080
  services      = toset(["ingest", "broadcaster"])

  # Path rules, all of which also require the origin header. Evaluated by priority.
  forward_rules = {
    transcribe = {
      priority = 10
      paths    = ["/api/stt/transcribe"]
      service  = "ingest"
    }
    broadcaster = {
      priority = 20
      paths    = ["/api/stt/connect", "/api/stt/conversations/*"]
      service  = "broadcaster"
    }
  }
}

################################################################################
# Security group: HTTPS from CloudFront only, to the tasks on 8080 only
################################################################################

resource "aws_security_group" "this" {
  name        = "${var.name}-alb"
  description = "ALB of ${var.name}: HTTPS from CloudFront origin-facing servers, HTTP to the tasks"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-alb" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "cloudfront_https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS from CloudFront origin-facing servers"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "targets" {
  security_group_id = aws_security_group.this.id
  description       = "HTTP to the ECS tasks (targets and health checks)"
  ip_protocol       = "tcp"
  from_port         = local.target_port
  to_port           = local.target_port
  cidr_ipv4         = data.aws_vpc.this.cidr_block

  tags = var.tags
}

################################################################################
# Load balancer
################################################################################

resource "aws_lb" "this" {
  # checkov:skip=CKV_AWS_150: deletion protection is var.deletion_protection, on by default; the dev root turns it off so dev can be torn down freely
  # checkov:skip=CKV2_AWS_28: the WAF web ACL is attached to the CloudFront distribution in front of this ALB; the ALB only admits CloudFront's origin-facing prefix list carrying the secret origin header
  name                       = var.name
  internal                   = false
  load_balancer_type         = "application"
  ip_address_type            = "ipv4"
  security_groups            = [aws_security_group.this.id]
  subnets                    = var.public_subnet_ids
  idle_timeout               = var.idle_timeout
  enable_deletion_protection = var.deletion_protection
  drop_invalid_header_fields = true
  desync_mitigation_mode     = "defensive"
  enable_http2               = true

  dynamic "access_logs" {
    for_each = compact([var.access_logs_bucket])

    content {
      bucket  = access_logs.value
      prefix  = var.access_logs_prefix
      enabled = true
    }
  }

  tags = var.tags
}

resource "aws_lb_target_group" "this" {
  # checkov:skip=CKV_AWS_378: TLS terminates at the ALB; the Fargate tasks serve plain HTTP on 8080 inside private subnets, reachable only from the ALB security group
  for_each = local.services

  name                 = "${var.name}-${each.key}"
  vpc_id               = var.vpc_id
  target_type          = "ip"
  port                 = local.target_port
  protocol             = "HTTP"
  protocol_version     = "HTTP1"
  deregistration_delay = var.deregistration_delay

  health_check {
    enabled             = true
    path                = "/api/stt/healthcheck"
    protocol            = "HTTP"
    port                = "traffic-port"
    matcher             = "200"
    interval            = var.health_check.interval
    timeout             = var.health_check.timeout
    healthy_threshold   = var.health_check.healthy_threshold
    unhealthy_threshold = var.health_check.unhealthy_threshold
  }

  stickiness {
    type    = "lb_cookie"
    enabled = false
  }

  tags = merge(var.tags, { Service = each.key })
}

################################################################################
# HTTPS listener and routing
#
# Default action (no rule matched, i.e. the origin header is missing or wrong): 403.
# Every rule requires the origin header, so a request that bypasses CloudFront gets
# 403 on every path; with the header the paths route as in docs/protocol.md and any
# other path gets a 404 JSON error from the lowest-priority rule.
################################################################################

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "application/json"
      status_code  = "403"
      message_body = jsonencode({ error = { code = "forbidden", message = "Forbidden" } })
    }
  }

  tags = var.tags
}

resource "aws_lb_listener_rule" "forward" {
  for_each = local.forward_rules

  listener_arn = aws_lb_listener.https.arn
  priority     = each.value.priority

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this[each.value.service].arn
  }

  condition {
    http_header {
      http_header_name = local.origin_header
      values           = [var.origin_secret]
    }
  }

  condition {
    path_pattern {
      values = each.value.paths
    }
  }

  tags = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

resource "aws_lb_listener_rule" "healthcheck" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 30

  action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      status_code  = "200"
      message_body = "Yes, I'm ok"
    }
  }

  condition {
    http_header {
      http_header_name = local.origin_header
      values           = [var.origin_secret]
    }
  }

  condition {
    path_pattern {
      values = ["/api/stt/healthcheck"]
    }
  }

  tags = merge(var.tags, { Name = "${var.name}-healthcheck" })
}

resource "aws_lb_listener_rule" "not_found" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 50000

  action {
    type = "fixed-response"

    fixed_response {
      content_type = "application/json"
      status_code  = "404"
      message_body = jsonencode({ error = { code = "not_found", message = "No route" } })
    }
  }

  condition {
    http_header {
      http_header_name = local.origin_header
      values           = [var.origin_secret]
    }
  }

  tags = merge(var.tags, { Name = "${var.name}-not-found" })
}
