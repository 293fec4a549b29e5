variable "environment" {
  description = "Environment name: resources are named captionist-<environment>-..., and the services read it as CAPTIONIST_ENV."
  type        = string

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

variable "speech_engine" {
  description = "Who transcribes: \"amazon-transcribe\" (per-minute price, no servers) or \"transcribe-local\" (self-hosted on Fargate, no Transcribe bill)."
  type        = string
  default     = "amazon-transcribe"

  validation {
    condition     = contains(["amazon-transcribe", "transcribe-local"], var.speech_engine)
    error_message = "speech_engine: \"amazon-transcribe\" or \"transcribe-local\"."
  }
}

variable "domain_name" {
  description = "The API origin's DNS name (on certificate_arn), pointed at the ALB; CloudFront connects to it over HTTPS."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for domain_name, in the environment's region (the ALB's HTTPS listener)."
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
}

variable "alarm_email" {
  description = "Where alarms are mailed (null: no subscription; subscribe to the SNS topic yourself)."
  type        = string
  default     = null
}

variable "egress" {
  description = "How tasks reach AWS APIs: \"vpc_endpoints\" or \"nat_gateway\" (the network module's README compares their cost)."
  type        = string
  default     = "vpc_endpoints"

  validation {
    condition     = contains(["vpc_endpoints", "nat_gateway"], var.egress)
    error_message = "egress: \"vpc_endpoints\" or \"nat_gateway\"."
  }
}

variable "deletion_protection" {
  description = "Protect the table and the load balancer from deletion (on in production)."
  type        = bool
  default     = true
}

variable "tasks" {
  description = "Autoscaling bounds of each of ingest and broadcaster, in tasks."
  type = object({
    min = number
    max = number
  })
  default = { min = 2, max = 20 }
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
