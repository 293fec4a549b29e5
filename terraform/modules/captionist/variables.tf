variable "environment" {
  description = "Environment name: resources are named captionist-<environment>-..., and the services read it as CAPTIONIST_ENV."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment: 2 to 16 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "images" {
  description = "Container images of the services (ECR URIs with a tag or digest), built from docker/. transcribe_local: only with speech_engine = \"transcribe-local\"."
  type = object({
    ingest           = string
    broadcaster      = string
    transcribe_local = optional(string)
  })

  validation {
    condition     = var.images.transcribe_local != null || var.speech_engine != "transcribe-local"
    error_message = "images.transcribe_local is needed with speech_engine = \"transcribe-local\"."
  }
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

variable "load_per_task" {
  description = "Autoscaling targets on the load each task publishes (besides CPU at 60 %): ingest's open speaker streams and the broadcaster's open listener connections, per task. docs/benchmarks.md: one ingest process sustained 200 streams at half a core; one broadcaster 5,000 listeners at a third of a core."
  type = object({
    ingest_streams          = optional(number, 100)
    broadcaster_connections = optional(number, 2000)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.load_per_task.ingest_streams >= 1 && var.load_per_task.broadcaster_connections >= 1
    error_message = "load_per_task: targets must be at least 1."
  }
}

variable "transcribe_local" {
  description = "The self-hosted speech service (speech_engine = \"transcribe-local\"): task size, engine, bounds of its task count, its target of open streams per task, and scheduled bounds (modules/service scheduled_capacity, e.g. business hours). docs/deploy.md sizes it."
  type = object({
    cpu              = optional(number, 2048)
    memory           = optional(number, 4096)
    engine           = optional(string, "hybrid")
    min              = optional(number, 2)
    max              = optional(number, 20)
    streams_per_task = optional(number, 2)
    schedule = optional(map(object({
      schedule = string
      timezone = optional(string, "UTC")
      min      = number
      max      = number
    })), {})
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["pocketsphinx", "whisper", "hybrid"], var.transcribe_local.engine)
    error_message = "transcribe_local.engine: \"pocketsphinx\", \"whisper\" or \"hybrid\"."
  }

  validation {
    condition     = var.transcribe_local.cpu >= 1024 && var.transcribe_local.min >= 1 && var.transcribe_local.min <= var.transcribe_local.max
    error_message = "transcribe_local: at least 1 vCPU (cpu >= 1024) and 1 <= min <= max."
  }
}

variable "signing_key_version" {
  description = "With self-hosted speech: raise it to generate a new key for ingest to sign transcribe-local streams with (then redeploy both services)."
  type        = number
  default     = 1
}

variable "segment_retention_days" {
  description = "Days a conversation's segments are kept after they were spoken (the table's TTL); 0 keeps them forever."
  type        = number
  default     = 0

  validation {
    condition     = var.segment_retention_days >= 0 && floor(var.segment_retention_days) == var.segment_retention_days
    error_message = "segment_retention_days: a whole number of days, 0 or more."
  }
}

variable "site_aliases" {
  description = "Your own host names for the site (CloudFront alternate domain names), e.g. [\"captions.example.com\"]. Needs site_certificate_arn. Empty: the *.cloudfront.net name."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "site_certificate_arn" {
  description = "ACM certificate in us-east-1 (CloudFront's region) covering site_aliases; null with no aliases."
  type        = string
  default     = null

  validation {
    condition     = var.site_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:us-east-1:", var.site_certificate_arn))
    error_message = "site_certificate_arn must be an ACM certificate ARN in us-east-1."
  }
}
