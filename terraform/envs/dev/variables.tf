variable "region" {
  description = "AWS region of the environment (Amazon Transcribe streaming must be offered there)."
  type        = string
  default     = "eu-west-1"
}

variable "environment" {
  description = "Environment name: resources are named captionist-<environment>-..., and the services read it as CAPTIONIST_ENV."
  type        = string
  default     = "dev"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment: 2 to 16 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "images" {
  description = "Container images of the services (ECR URIs with a tag or digest), built from docker/."
  type = object({
    ingest           = string
    broadcaster      = string
    transcribe_local = optional(string)
  })
}

variable "domain_name" {
  description = "The API origin's DNS name (on certificate_arn), pointed at the ALB; CloudFront connects to it over HTTPS."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for domain_name, in var.region (the ALB's HTTPS listener)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "origin_secret" {
  description = "Value of the X-Captionist-Origin header CloudFront adds and the ALB requires (keep it in a secret store; at least 32 characters)."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.origin_secret) >= 32
    error_message = "origin_secret: at least 32 characters."
  }
}

variable "processor_package" {
  description = "Path of the processor's Lambda zip (make package)."
  type        = string
  default     = "../../../build/processor.zip"
}

variable "alarm_email" {
  description = "Where alarms are mailed (null: no subscription; subscribe to the SNS topic yourself)."
  type        = string
  default     = null
}

variable "speech_engine" {
  description = "Who transcribes: \"amazon-transcribe\" (per-minute price, no servers) or \"transcribe-local\" (self-hosted on Fargate; needs images.transcribe_local). docs/deploy.md compares their cost."
  type        = string
  default     = "amazon-transcribe"
}

variable "transcribe_local" {
  description = "Size and bounds of the self-hosted speech service (modules/captionist); {} takes its defaults."
  type        = any
  default     = {}
}

variable "signing_key_version" {
  description = "With self-hosted speech: raise it to give ingest a new key to sign transcribe-local streams with (then redeploy both services; docs/deploy.md 5.1)."
  type        = number
  default     = 1
}

variable "segment_retention_days" {
  description = "Days a conversation's segments are kept after they were spoken; 0 keeps them forever."
  type        = number
  default     = 30
}

variable "site_aliases" {
  description = "Your own host names for the site, e.g. [\"captions.example.com\"] (needs site_certificate_arn); empty: the *.cloudfront.net name."
  type        = list(string)
  default     = []
}

variable "site_certificate_arn" {
  description = "ACM certificate in us-east-1 covering site_aliases."
  type        = string
  default     = null
}
