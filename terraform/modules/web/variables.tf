variable "name" {
  description = "Name prefix of every resource (the roots set captionist-<env>)."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource that takes tags."
  type        = map(string)
  default     = {}
}

variable "api_domain_name" {
  description = "Host name CloudFront connects to for /api/stt/* (HTTPS only): a DNS name pointing at the ALB and covered by the ALB listener's certificate."
  type        = string
}

variable "origin_secret" {
  description = "Value of the X-Captionist-Origin header CloudFront adds to every /api/stt/* origin request; the ALB answers 403 without it. Same value as the alb module's origin_secret."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{32,128}$", var.origin_secret))
    error_message = "origin_secret must be 32-128 characters from [A-Za-z0-9_-]."
  }
}

variable "aliases" {
  description = "Alternate domain names (CNAMEs) of the distribution. Requires certificate_arn."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "certificate_arn" {
  description = "ACM certificate in us-east-1 covering aliases. null: the default *.cloudfront.net certificate (then aliases must be empty)."
  type        = string
  default     = null
}

variable "price_class" {
  description = "CloudFront price class: PriceClass_100 (North America, Europe), PriceClass_200 or PriceClass_All."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "logging_bucket" {
  description = "Name of an S3 bucket (with ACLs enabled, as CloudFront standard logging requires) receiving the distribution's access logs. null: no access logs."
  type        = string
  default     = null
}

variable "logging_prefix" {
  description = "Key prefix of the CloudFront access logs in logging_bucket."
  type        = string
  default     = "cloudfront/"
}

variable "web_acl_arn" {
  description = "ARN of a WAFv2 web ACL (scope CLOUDFRONT, us-east-1) to associate with the distribution. null: none."
  type        = string
  default     = null
}

variable "content_security_policy" {
  description = "Content-Security-Policy sent with every response. The default allows the app's own scripts, styles and AudioWorklet module ('self'), websockets (wss:) and nothing else."
  type        = string
  default     = "default-src 'self'; script-src 'self'; worker-src 'self' blob:; connect-src 'self' wss:; img-src 'self' data:; style-src 'self'; font-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; upgrade-insecure-requests"
}

variable "kms_key_arn" {
  description = "KMS key encrypting the bucket. null: the module creates one whose policy lets only this distribution decrypt. A key of your own must allow kms:Decrypt to cloudfront.amazonaws.com for this distribution."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Allow destroying the bucket while it still holds objects (throwaway environments only)."
  type        = bool
  default     = false
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which replaced versions of the web app's objects are deleted (the rollback window)."
  type        = number
  default     = 30
}

variable "origin_read_timeout" {
  description = "Seconds CloudFront waits for the API origin to respond (1-60 without a quota increase)."
  type        = number
  default     = 60
}
