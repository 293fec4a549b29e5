variable "name" {
  description = "Name prefix of every resource (the roots set captionist-<env>). At most 20 characters so that \"<name>-broadcaster\" fits the 32-character target group name limit."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,19}$", var.name))
    error_message = "name must be 1-20 letters, digits or hyphens, starting with a letter or digit."
  }
}

variable "tags" {
  description = "Tags applied to every resource that takes tags."
  type        = map(string)
  default     = {}
}

variable "vpc_id" {
  description = "VPC of the load balancer and of its target groups (network module output vpc_id)."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets of the load balancer, at least two availability zones (network module output public_subnet_ids)."
  type        = list(string)
}

variable "certificate_arn" {
  description = "ACM certificate (in the ALB's region) for the HTTPS listener. Its name is the api_domain_name CloudFront connects to."
  type        = string
}

variable "ssl_policy" {
  description = "TLS security policy of the HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "origin_secret" {
  description = "Value CloudFront sends in the X-Captionist-Origin header. Every listener rule requires it; without it every path gets 403. 32-128 characters from [A-Za-z0-9_-] (ALB header conditions treat * and ? as wildcards and compare case-insensitively)."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{32,128}$", var.origin_secret))
    error_message = "origin_secret must be 32-128 characters from [A-Za-z0-9_-]."
  }
}

variable "deletion_protection" {
  description = "Enable deletion protection on the load balancer (set false in throwaway environments)."
  type        = bool
  default     = true
}

variable "access_logs_bucket" {
  description = "S3 bucket receiving the ALB access logs (its policy must allow the regional ELB log delivery). null: no access logs."
  type        = string
  default     = null
}

variable "access_logs_prefix" {
  description = "Key prefix of the ALB access logs in access_logs_bucket (null: bucket root)."
  type        = string
  default     = null
}

variable "idle_timeout" {
  description = "Seconds a connection may stay idle. WebSockets stay open between pings (the services ping every 20 s), so keep it well above that."
  type        = number
  default     = 300
}

variable "deregistration_delay" {
  description = "Seconds a deregistering target keeps its in-flight requests (connection draining)."
  type        = number
  default     = 30
}

variable "health_check" {
  description = "Target-group health check timing (path /api/stt/healthcheck, matcher 200, on the traffic port)."
  type = object({
    interval            = optional(number, 15)
    timeout             = optional(number, 5)
    healthy_threshold   = optional(number, 2)
    unhealthy_threshold = optional(number, 3)
  })
  default  = {}
  nullable = false
}
